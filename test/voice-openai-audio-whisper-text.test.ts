import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

/** `seconds` of 16 kHz mono 16-bit PCM in a canonical RIFF/WAVE container. */
function wav(seconds: number, sampleRate = 16_000): Buffer {
  const data = Buffer.alloc(seconds * sampleRate * 2);
  for (let i = 0; i < data.length / 2; i++) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / sampleRate) * 8000), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

t.test('30 s of WAV to whisper-1 with response_format=text (the provider reports no duration) = 6 credits, measured by tollgate', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('The quick brown fox jumps over the lazy dog.\n');
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const audio = wav(30);
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1` });
  const text = await client.audio.transcriptions.create({ file: await toFile(audio, 'speech.wav', { type: 'audio/wav' }), model: 'whisper-1', response_format: 'text' });
  t.equal(text, 'The quick brown fox jumps over the lazy dog.\n');

  const seen = up.requests[0]!;
  t.equal(seen.path, '/v1/audio/transcriptions');
  t.equal(seen.headers.authorization, 'Bearer sk-platform');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, 'the customer key never reaches OpenAI');
  t.ok(seen.body.includes(audio), 'the upload reaches OpenAI byte for byte');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 6, '30 s × 12 / 60 (the Whisper row)');
  t.equal(u.breakdown.stt, 6);
  t.equal(u.requestCount, 1);
  t.same(settled[0]!.units, { audioMs: 30_000 });
  t.equal(settled[0]!.source, 'measured');
  t.equal(settled[0]!.reported, undefined, 'text answers report nothing');
  t.equal(settled[0]!.model, 'whisper-1');
});
