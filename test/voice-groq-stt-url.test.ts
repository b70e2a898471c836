import t from 'tap';
import Groq from 'groq-sdk';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixtures = new URL('../../test/fixtures/groq/', import.meta.url);
const read = (name: string): unknown => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));

t.test("groq audio by url: verbose_json's duration bills (60 s = 2 credits); plain json reports nothing, so the reservation bound bills (3,600 s = 120 credits)", async (t) => {
  const up = await startUpstream((req, res) => json(res, 200, read(req.body.includes('verbose_json') ? 'stt-verbose-json-response.json' : 'stt-json-response.json')));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { groq: { baseUrl: up.url, apiKey: 'gsk_platform' } } }, { tier: 'starter', events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new Groq({ apiKey: TEST_KEY, baseURL: tg.base('groq') });
  const url = 'https://storage.example.com/calls/2025-11-24/call-0192.ogg';

  await client.audio.transcriptions.create({ url, model: 'whisper-large-v3', response_format: 'verbose_json' });
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 2);
  t.same(settled[0]!.units, { audioMs: 60_000 });
  t.equal(settled[0]!.source, 'provider');

  const plain = await client.audio.transcriptions.create({ url, model: 'whisper-large-v3' });
  t.equal(plain.text, ' A steady tone, and nothing else.');
  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 122, '2 + the sttMaxReserveSeconds bound (3,600 s × 2 / 60)');
  t.equal(u.breakdown.stt, 122);
  t.same(settled[1]!.units, { audioMs: 3_600_000 });
  t.equal(settled[1]!.source, 'estimate');
  t.match(up.requests[1]!.body.toString(), url, 'the url reaches Groq');
});
