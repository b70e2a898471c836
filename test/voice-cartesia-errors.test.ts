import t from 'tap';
import Cartesia, { APIError } from '@cartesia/cartesia-js';
import type { TTSGenerateParams } from '@cartesia/cartesia-js/resources/tts';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixtureJson, textOfCodePoints } from './voice-audio-fixtures.js';

const request = (transcript: string): TTSGenerateParams => ({
  model_id: 'sonic-3',
  transcript,
  voice: { mode: 'id' as const, id: 'v' },
  output_format: { container: 'wav' as const, encoding: 'pcm_s16le' as const, sample_rate: 16000 },
});

t.test('Cartesia: a 400 answer costs 0; over the Free cap: 402 in Cartesia\'s shape, upstream untouched', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 400, fixtureJson('cartesia/error-400.json')));
  const tg = await startTollgate({ providers: { cartesia: { baseUrl: up.url, apiKey: 'sk_car_platform' } } }, { tier: 'free' });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new Cartesia({ apiKey: TEST_KEY, baseURL: tg.base('cartesia'), maxRetries: 0 });

  const e1 = (await client.tts.generate(request('hello')).catch((e: unknown) => e)) as APIError;
  t.equal(e1.status, 400);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0);

  // 32,100 code points × 78 / 1,000 = 2,503.8 credits > 2,500
  const e2 = (await client.tts.generate(request(textOfCodePoints(32_100))).catch((e: unknown) => e)) as APIError;
  t.ok(e2 instanceof APIError);
  t.equal(e2.status, 402);
  t.match(e2.error, { error_code: 'insufficient_credits', status_code: 402 });
  t.match(e2.message, /insufficient credits/);
  t.equal(up.requests.length, 1);
});
