import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, fixtures));

t.test('self-hosted whisper: 60 s of FLAC transcribed + 60 s of MP3 translated = 12 + 12.0024 credits at the Whisper row; no key reaches the server', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, { text: 'A steady tone, and nothing else.' }));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { whisper: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('whisper')}/v1` });
  const a = await client.audio.transcriptions.create({ file: await toFile(read('audio/tone-60s.flac'), 'tone.flac'), model: 'Systran/faster-whisper-small' });
  t.equal(a.text, 'A steady tone, and nothing else.');
  // MP3 without a Xing header: timed by counting its 1,667 frames, 60.012 s.
  const b = await client.audio.translations.create({ file: await toFile(read('audio/tone-60s-cbr.mp3'), 'tone.mp3'), model: 'Systran/faster-whisper-small' });
  t.equal(b.text, 'A steady tone, and nothing else.');

  t.same(up.requests.map((r) => r.path), ['/v1/audio/transcriptions', '/v1/audio/translations']);
  for (const r of up.requests) t.equal(r.headers.authorization, undefined, 'a keyless server gets no Authorization header');
  t.notMatch(JSON.stringify(up.requests.map((r) => r.headers)), TEST_KEY, 'the customer key never reaches the server');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 24.0024, '60 s + 60.012 s at 12 per minute');
  t.equal(u.breakdown.stt, 24.0024);
  t.same(settled.map((s) => s.units.audioMs), [60_000, 60_012]);
  t.same(settled.map((s) => s.source), ['measured', 'measured']);
});
