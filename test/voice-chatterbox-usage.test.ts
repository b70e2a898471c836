import t from 'tap';
import OpenAI from 'openai';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

t.test('chatterbox through the openai SDK: the stripped input, 1,000 code points (emoji included) = 6 credits', async (t) => {
  const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4000)]);
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-disposition': 'attachment; filename=speech.wav' });
    res.end(wav);
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { chatterbox: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('chatterbox')}/v1` });
  // The server strips the input before synthesizing it (TTSRequest.validate_input): the spaces are not spoken.
  const text = `  ${'w'.repeat(995)}👋🏽👋🏽🌍\n`; // 995 + 2 × (👋 + skin tone) + 🌍 = 1,000 code points once stripped
  const speech = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: text, response_format: 'wav' });
  t.ok(Buffer.from(await speech.arrayBuffer()).equals(wav));
  t.equal(up.requests[0]!.path, '/v1/audio/speech');
  t.equal(up.requests[0]!.headers.authorization, undefined);
  t.notMatch(JSON.stringify(up.requests[0]!.headers), TEST_KEY, 'the customer key never reaches the server');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 6, '1,000 × 6 / 1,000');
  t.equal(u.breakdown.tts, 6);
  t.equal(settled[0]!.units.chars, 1000);
});
