import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/inworld/${name}`, import.meta.url), 'utf8'));

t.test('inworld errors cost nothing: a provider failure is free, and a Free account past its credits gets a grpc-style 402 before Inworld sees it', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 400, fixture('error-invalid-argument.json')));
  const tg = await startTollgate({ providers: { inworld: { baseUrl: up.url, apiKey: 'aW53b3JsZDpzZWNyZXQ=' } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const post = (text: string) =>
    fetch(`${tg.base('inworld')}/tts/v1/voice`, {
      method: 'POST',
      headers: { authorization: `Basic ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text, voiceId: 'Nobody', modelId: 'inworld-tts-1.5-max' }),
    });

  const failed = await post('Hello.');
  t.equal(failed.status, 400);
  t.same(await failed.json(), fixture('error-invalid-argument.json'));
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a provider error costs 0');

  // 31,500 characters at 80 credits per 1,000 = 2,520 credits > 2,500.
  const refused = await post('y'.repeat(31_500));
  t.equal(refused.status, 402);
  const body = (await refused.json()) as { code: number; message: string; details: unknown[] };
  t.equal(body.code, 8, 'RESOURCE_EXHAUSTED');
  t.match(body.message, /insufficient credits/);
  t.same(body.details, [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'insufficient_credits', domain: 'tollgate' }]);
  t.equal(up.requests.length, 1, 'the refused request never reached Inworld');
  t.equal((await tg.usage()).credits.used, 0);
});
