import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/pockettts/${name}`, import.meta.url), 'utf8'));

t.test("pockettts errors cost nothing: the server's 400 is free, a body without `text` and a Free account past its credits are refused before the server sees them", async (t) => {
  const up = await startUpstream((_req, res) => json(res, 400, fixture('error-empty-text.json')));
  const tg = await startTollgate({ providers: { pockettts: { baseUrl: up.url } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const post = (form: Record<string, string>) =>
    fetch(`${tg.base('pockettts')}/tts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });

  const failed = await post({ text: '   ' });
  t.equal(failed.status, 400);
  t.same(await failed.json(), fixture('error-empty-text.json'));
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  const missing = await post({ voice_url: 'alba' });
  t.equal(missing.status, 400);
  t.match(await missing.json(), { detail: /`text`/, code: 'invalid_request' });

  // 1,250,001 characters at 2 credits per 1,000 = 2,500.002 credits > 2,500.
  const refused = await post({ text: 'k'.repeat(1_250_001) });
  t.equal(refused.status, 402);
  t.match(await refused.json(), { detail: /insufficient credits/, code: 'insufficient_credits' });
  t.equal(up.requests.length, 1, 'the refused requests never reached the server');
  t.equal((await tg.usage()).credits.used, 0);
});
