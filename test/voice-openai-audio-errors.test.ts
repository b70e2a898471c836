import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, fixtures));

t.test('openai transcription errors cost nothing: a provider 400 is free, a Free account past its credits is refused before OpenAI sees the upload', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 400, JSON.parse(read('whisper/error-invalid-file.json').toString())));
  // A Free tier of 10 credits: the 60 s upload reserves more than that.
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, tiers: { free: { includedCredits: 10 } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1`, maxRetries: 0 });

  // 166,007 bytes of FLAC reserve 166,007 / 4,000 B/s = 42 s = 8.4 credits: within 10, so it is
  // forwarded, and OpenAI's 400 costs nothing.
  const flac = read('audio/tone-60s.flac');
  const failed = await client.audio.transcriptions.create({ file: await toFile(flac, 'tone.flac', { type: 'audio/flac' }), model: 'whisper-1' }).catch((e: unknown) => e);
  t.ok(failed instanceof OpenAI.BadRequestError);
  t.equal(up.requests.length, 1);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  // Four times the bytes reserve 33.6 credits: refused before OpenAI sees any of it.
  const big = Buffer.concat([flac, Buffer.alloc(3 * flac.length)]);
  const refused = await client.audio.transcriptions.create({ file: await toFile(big, 'tone.flac', { type: 'audio/flac' }), model: 'whisper-1' }).catch((e: unknown) => e);
  t.ok(refused instanceof OpenAI.APIError);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).status, 402);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).code, 'insufficient_credits');
  t.equal(up.requests.length, 1, 'the refused upload never reached OpenAI');

  const notForm = await fetch(`${tg.base('openai')}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: '{"model":"whisper-1"}' });
  t.equal(notForm.status, 400);
  t.match(await notForm.json(), { error: { code: 'invalid_request' } });
  t.equal(up.requests.length, 1);
  t.equal((await tg.usage()).credits.used, 0);
});
