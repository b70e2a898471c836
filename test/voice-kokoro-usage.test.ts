import t from 'tap';
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/kokoro/${name}`, import.meta.url), 'utf8'));

t.test('kokoro through the openai SDK: 1,000 code points (emoji included) = 4 credits; the model list is free; no key reaches the server', async (t) => {
  const mp3 = Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(2000, 0xff)]);
  const up = await startUpstream((req, res) => {
    if (req.method === 'GET') return json(res, 200, fixture('models.json'));
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    res.end(mp3);
  });
  const settled: SettledRecord[] = [];
  // Self-hosted: a baseUrl and no apiKey.
  const tg = await startTollgate({ providers: { kokoro: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('kokoro')}/v1` });
  // 996 + 🎙 + U+FE0F + 🎧 + '!' = 1,000 code points (1,002 UTF-16 units).
  const text = 'b'.repeat(996) + '🎙️🎧!';
  t.equal([...text].length, 1000);
  const speech = await client.audio.speech.create({ model: 'kokoro', voice: 'af_bella', input: text, response_format: 'mp3' });
  const audio = Buffer.from(await speech.arrayBuffer());
  t.ok(audio.equals(mp3), 'the audio reaches the client unchanged');

  const models = await client.models.list();
  t.same(models.data.map((m) => m.id), ['tts-1', 'tts-1-hd', 'kokoro']);

  const seen = up.requests[0]!;
  t.equal(seen.path, '/v1/audio/speech');
  t.equal(seen.headers.authorization, undefined, 'a keyless server gets no Authorization header');
  t.notMatch(JSON.stringify(up.requests.map((r) => r.headers)), TEST_KEY, 'the customer key never reaches Kokoro');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 4, '1,000 × 4 / 1,000');
  t.equal(u.breakdown.tts, 4);
  t.equal(u.requestCount, 1, 'the model list is not a request of the account');
  t.equal(settled[0]!.units.chars, 1000);
  t.equal(settled[0]!.model, 'kokoro');
});
