import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const stream = readFileSync(new URL('whisper/transcript-stream.sse', fixtures));

t.test('openai streamed transcription (gpt-4o-mini-transcribe, stream: true): events pass through, 60 s of Ogg/Opus = 12 credits, token usage recorded', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    for (const part of stream.toString().split(/(?<=\n\n)/)) {
      res.write(part);
      await new Promise((r) => setTimeout(r, 2));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1` });
  const file = await toFile(readFileSync(new URL('audio/tone-60s.ogg', fixtures)), 'tone.ogg', { type: 'audio/ogg' });
  const events = await client.audio.transcriptions.create({ file, model: 'gpt-4o-mini-transcribe', stream: true });
  const types: string[] = [];
  for await (const ev of events) types.push(ev.type);
  t.same(types, ['transcript.text.delta', 'transcript.text.delta', 'transcript.text.done']);
  t.match(up.requests[0]!.body.toString('latin1'), /name="stream"\r\n\r\ntrue/);

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 12, '60 s at the Whisper row, 12 / minute');
  t.equal(u.breakdown.stt, 12);
  t.same(settled[0]!.units, { audioMs: 60_000 });
  t.same(settled[0]!.reported, { inputTokens: 312, outputTokens: 9 });
  t.equal(settled[0]!.model, 'gpt-4o-mini-transcribe');
});
