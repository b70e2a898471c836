import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/resemble/${name}`, import.meta.url), 'utf8'));

t.test('resemble errors cost nothing: a provider failure is free, and a Free account past its credits is refused before Resemble sees it', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 401, fixture('error-unauthorized.json')));
  const tg = await startTollgate({ providers: { resemble: { baseUrl: up.url, apiKey: 'rs-platform' } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const post = (data: string) =>
    fetch(`${tg.base('resemble')}/synthesize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ voice_uuid: '55592656', data }),
    });

  const failed = await post('Hello there.');
  t.equal(failed.status, 401);
  t.same(await failed.json(), fixture('error-unauthorized.json'), "Resemble's own error reaches the client");
  await tg.app.pipeline.idle(2000);
  let u = await tg.usage();
  t.equal(u.credits.used, 0, 'a provider error costs 0');

  // 21,000 characters at 120 credits per 1,000 = 2,520 credits > the Free tier's 2,500.
  const refused = await post('x'.repeat(21_000));
  t.equal(refused.status, 402);
  const body = (await refused.json()) as { success: boolean; error_name: string; message: string };
  t.equal(body.success, false);
  t.equal(body.error_name, 'insufficient_credits');
  t.match(body.message, /insufficient credits/);
  t.equal(up.requests.length, 1, 'the refused request never reached Resemble');
  u = await tg.usage();
  t.equal(u.credits.used, 0);
});
