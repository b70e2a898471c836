import t from 'tap';
import { Mistral } from '@mistralai/mistralai';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const stream = readFileSync(new URL('../../test/fixtures/mistral/stt-transcription-stream.sse', import.meta.url));

t.test("@mistralai/mistralai streamed transcription of a file_url: transcription.done's prompt_audio_seconds bills, 75 s = 10 credits", async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const part of stream.toString().split(/(?<=\n\n)/)) {
      res.write(part);
      await new Promise((r) => setTimeout(r, 2));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { mistral: { baseUrl: up.url, apiKey: 'mistral-platform' } } }, { tier: 'starter', events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new Mistral({ apiKey: TEST_KEY, serverURL: tg.base('mistral') });
  const events = await client.audio.transcriptions.stream({ model: 'voxtral-mini-latest', fileUrl: 'https://docs.mistral.ai/audio/obama.mp3' });
  const types: string[] = [];
  for await (const ev of events) types.push(ev.event);
  t.same(types, ['transcription.language', 'transcription.text.delta', 'transcription.text.delta', 'transcription.done']);
  t.match(up.requests[0]!.body.toString(), /name="file_url"/);

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 10, '75 s × 8 / 60');
  t.equal(u.breakdown.stt, 10);
  t.same(settled[0]!.units, { audioMs: 75_000 });
  t.equal(settled[0]!.source, 'provider', 'audio by reference: the provider reports, tollgate cannot measure');
  t.equal(settled[0]!.model, 'voxtral-mini', 'the normalised model (issue 20)');
  t.equal(settled[0]!.providerModel, 'voxtral-mini-latest', "and the provider's beside it");
});
