import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, fixtures));

t.test("openai transcription: tollgate's measurement bills and the provider's duration is recorded; unparseable audio bills the provider's duration", async (t) => {
  const up = await startUpstream((req, res) => {
    const verbose = req.body.includes('verbose_json');
    json(res, 200, JSON.parse(read(verbose ? 'whisper/verbose-json-response.json' : 'whisper/json-response.json').toString()));
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'starter', events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1` });

  // 60.000 s of FLAC; OpenAI says 61 s (usage) and 60.02 s (verbose_json duration).
  const flac = await toFile(read('audio/tone-60s.flac'), 'tone.flac', { type: 'audio/flac' });
  const verbose = await client.audio.transcriptions.create({ file: flac, model: 'whisper-1', response_format: 'verbose_json' });
  t.equal(verbose.duration, 60.02);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 12, '60 s × 12 / 60');
  t.same(settled[0]!.units, { audioMs: 60_000 });
  t.same(settled[0]!.reported, { audioMs: 61_000 });
  t.equal(settled[0]!.source, 'measured');

  // Bytes no parser recognises: OpenAI's usage (61 s) bills.
  const garbage = await toFile(Buffer.alloc(50_000, 0x5a), 'speech.wav', { type: 'audio/wav' });
  const plain = await client.audio.transcriptions.create({ file: garbage, model: 'whisper-1' });
  t.equal(plain.text, 'A steady tone, and nothing else.');
  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 24.2, '12 + 61 s × 12 / 60');
  t.equal(u.breakdown.stt, 24.2);
  t.same(settled[1]!.units, { audioMs: 61_000 });
  t.equal(settled[1]!.source, 'provider');
});
