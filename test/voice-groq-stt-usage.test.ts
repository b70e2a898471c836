import t from 'tap';
import Groq, { toFile } from 'groq-sdk';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, fixtures));

t.test("groq-sdk transcription: 60 s of Ogg/Opus = 2 credits, measured by tollgate; verbose_json's duration is recorded", async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, JSON.parse(read('groq/stt-verbose-json-response.json').toString())));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { groq: { baseUrl: up.url, apiKey: 'gsk_platform' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new Groq({ apiKey: TEST_KEY, baseURL: tg.base('groq') });
  const audio = read('audio/tone-60s.ogg');
  const r = await client.audio.transcriptions.create({ file: await toFile(audio, 'tone.ogg'), model: 'whisper-large-v3-turbo', response_format: 'verbose_json' });
  t.equal(r.text, ' A steady tone, and nothing else.');

  const seen = up.requests[0]!;
  t.equal(seen.path, '/openai/v1/audio/transcriptions');
  t.equal(seen.headers.authorization, 'Bearer gsk_platform');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, 'the customer key never reaches Groq');
  t.ok(seen.body.includes(audio), 'the upload reaches Groq byte for byte');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 2, '60 s × 2 / 60');
  t.equal(u.breakdown.stt, 2);
  t.same(settled[0]!.units, { audioMs: 60_000 });
  t.same(settled[0]!.reported, { audioMs: 60_000 });
  t.equal(settled[0]!.source, 'measured');
  t.equal(settled[0]!.model, 'whisper-large-v3-turbo');
});
