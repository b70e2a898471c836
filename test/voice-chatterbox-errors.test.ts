import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/chatterbox/${name}`, import.meta.url), 'utf8'));

t.test('chatterbox errors cost nothing: a server error is free, a Free account past its credits is refused (JSON and upload) before the server sees it', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 400, fixture('error-validation.json')));
  const tg = await startTollgate({ providers: { chatterbox: { baseUrl: up.url } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const auth = { authorization: `Bearer ${TEST_KEY}` };
  const failed = await fetch(`${tg.base('chatterbox')}/tts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'Hello.' }) });
  t.equal(failed.status, 400);
  t.same(await failed.json(), fixture('error-validation.json'));
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  // 416,700 characters at 6 credits per 1,000 = 2,500.2 credits > 2,500.
  const big = 'q'.repeat(416_700);
  const refused = await fetch(`${tg.base('chatterbox')}/v1/audio/speech`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ input: big }) });
  t.equal(refused.status, 402);
  t.match(await refused.json(), { error: { code: 'insufficient_credits', type: 'insufficient_quota' } });
  const form = new FormData();
  form.append('input', big);
  const refusedUpload = await fetch(`${tg.base('chatterbox')}/audio/speech/stream/upload`, { method: 'POST', headers: auth, body: form });
  t.equal(refusedUpload.status, 402);
  t.equal(up.requests.length, 1, 'neither refused request reached the server');
  t.equal((await tg.usage()).credits.used, 0);
});
