import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const stream = readFileSync(new URL('whisper/transcript-stream.sse', fixtures));

t.test('self-hosted whisper streaming (stream: true): the events pass through; 60.064 s of M4A = 12.0128 credits', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const part of stream.toString().split(/(?<=\n\n)/)) {
      res.write(part);
      await new Promise((r) => setTimeout(r, 2));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { whisper: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('whisper')}/v1` });
  // moov after mdat: the parser reads to the end of the upload, which streams through meanwhile.
  const file = await toFile(readFileSync(new URL('audio/tone-60s.m4a', fixtures)), 'tone.m4a', { type: 'audio/mp4' });
  const events = await client.audio.transcriptions.create({ file, model: 'Systran/faster-whisper-small', stream: true });
  let text = '';
  for await (const ev of events) if (ev.type === 'transcript.text.done') text = ev.text;
  t.equal(text, 'A steady tone, and nothing else.');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 12.0128, '60.064 s × 12 / 60');
  t.same(settled[0]!.units, { audioMs: 60_064 });
  t.equal(settled[0]!.source, 'measured');
});
