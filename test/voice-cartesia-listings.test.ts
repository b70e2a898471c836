import t from 'tap';
import Cartesia from '@cartesia/cartesia-js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('Cartesia voice listing and lookup through the SDK are free', async (t) => {
  const voice = { id: 'a0e99841-438c-4a64-b679-ae501e7d6091', name: 'Barbershop Man', description: '', is_owner: false, is_public: true, language: 'en', created_at: '2024-06-10T00:00:00Z' };
  // The SDK pages with starting_after until a page is empty.
  const up = await startUpstream((req, res) => json(res, 200, req.path !== '/voices' ? voice : { data: req.query.has('starting_after') ? [] : [voice], has_more: false }));
  const tg = await startTollgate({ providers: { cartesia: { baseUrl: up.url, apiKey: 'sk_car_platform' } } });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new Cartesia({ apiKey: TEST_KEY, baseURL: tg.base('cartesia'), maxRetries: 0 });
  const names: string[] = [];
  for await (const v of client.voices.list({ limit: 10 })) names.push(v.name);
  t.same(names, ['Barbershop Man']);
  t.equal((await client.voices.get(voice.id)).name, 'Barbershop Man');
  t.same(up.requests.map((r) => r.headers.authorization), ['Bearer sk_car_platform', 'Bearer sk_car_platform', 'Bearer sk_car_platform']);
  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0);
  t.equal(u.requestCount, 0);
});
