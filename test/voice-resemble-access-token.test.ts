// The older resemble-node SDK sends its key as `x-access-token`: the tollgate key is read from
// there, metered, and never forwarded.
import t from 'tap';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('x-access-token carries the tollgate key; 500 code points = 60 credits', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, { success: true, duration: 30 }));
  const tg = await startTollgate({ providers: { resemble: { baseUrl: up.url, apiKey: 'rs-platform' } } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const r = await fetch(`${tg.base('resemble')}/synthesize`, {
    method: 'POST',
    headers: { 'x-access-token': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ voice_uuid: 'v1', data: 'b'.repeat(500) }),
  });
  t.equal(r.status, 200);
  const seen = up.requests[0]!;
  t.equal(seen.headers.authorization, 'Bearer rs-platform');
  t.equal(seen.headers['x-access-token'], undefined, 'the customer key is removed');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY);
  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 60);
  t.equal(u.breakdown.tts, 60);
});
