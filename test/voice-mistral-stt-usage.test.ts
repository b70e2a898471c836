import t from 'tap';
import { Mistral } from '@mistralai/mistralai';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, fixtures));

t.test('@mistralai/mistralai transcription: 60 s of Ogg/Opus = 8 credits, measured; usage.prompt_audio_seconds is recorded', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, JSON.parse(read('mistral/stt-transcription-response.json').toString())));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { mistral: { baseUrl: up.url, apiKey: 'mistral-platform' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new Mistral({ apiKey: TEST_KEY, serverURL: tg.base('mistral') });
  const audio = read('audio/tone-60s.ogg');
  const r = await client.audio.transcriptions.complete({ model: 'voxtral-mini-latest', file: { fileName: 'tone.ogg', content: audio } });
  t.equal(r.text, 'A steady tone, and nothing else.');
  t.equal(r.usage.promptAudioSeconds, 60);

  const seen = up.requests[0]!;
  t.equal(seen.path, '/v1/audio/transcriptions');
  t.equal(seen.headers.authorization, 'Bearer mistral-platform');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, 'the customer key never reaches Mistral');
  t.ok(seen.body.includes(audio));

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 8, '60 s × 8 / 60');
  t.equal(u.breakdown.stt, 8);
  t.same(settled[0]!.units, { audioMs: 60_000 });
  t.same(settled[0]!.reported, { audioMs: 60_000, inputTokens: 4, outputTokens: 10 });
  t.equal(settled[0]!.source, 'measured');
});
