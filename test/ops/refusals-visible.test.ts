// Refusals are visible: a 402 (and any refusal) logs one line with the account, the key id, the
// provider, the code and the status, at most one per account and code per 10 s (the rest
// counted in the next line's `suppressed`); tollgate_refusals_total counts each by code and
// tier; a `settled` line carries the key id and the normalised model, the provider's beside it.
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startUpstream, json } from '../helpers/upstream.js';
import { startTollgate } from '../helpers/tollgate.js';
import { hashKey } from '../../proxy/auth.js';

const FREE = 'tg_refusal_free_0000000000000000001';
const PRO = 'tg_refusal_pro_00000000000000000002';

t.test('a 402 logs one line with account, key id and code; the counter counts every one', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1-2025-04-14', choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } }));
  t.teardown(() => up.close());
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const tg = await startTollgate(
    {
      providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
      tiers: { free: { includedCredits: 1 } },
      accounts: [
        { id: 'capped', tier: 'free', apiKeys: [FREE] },
        { id: 'paying', tier: 'pro', apiKeys: [PRO] },
      ],
    },
    { logger: pino({ level: 'info' }, sink) },
  );
  t.teardown(() => tg.close());
  const chat = async (key: string) => {
    const r = await fetch(`${tg.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 500 }) });
    await r.arrayBuffer();
    return r.status;
  };
  for (let i = 0; i < 5; i++) t.equal(await chat(FREE), 402);
  t.equal(await chat('tg_not_a_key_000000000000000000000'), 401);
  t.equal(await chat(PRO), 200);
  await tg.app.pipeline.idle(5_000);

  const refused = lines.filter((l) => l.msg === 'refused');
  t.same(
    refused.map(({ account, keyId, provider, code, status }) => ({ account, keyId, provider, code, status })),
    [
      { account: 'capped', keyId: hashKey(FREE).slice(0, 12), provider: 'openai', code: 'insufficient_credits', status: 402 },
      { account: null, keyId: null, provider: 'openai', code: 'invalid_api_key', status: 401 },
    ],
    'one line for five 402s of one account (rate-limited), one for the 401',
  );
  t.equal(up.requests.length, 1, 'only the paying call reached the provider');

  const metrics = await (await fetch(`${tg.adminUrl}/metrics`)).text();
  t.match(metrics, /^tollgate_refusals_total\{code="insufficient_credits",tier="free"\} 5$/m);
  t.match(metrics, /^tollgate_refusals_total\{code="invalid_api_key",tier="none"\} 1$/m);

  const settled = lines.filter((l) => l.msg === 'settled');
  t.equal(settled.length, 1);
  t.match(settled[0], { accountId: 'paying', keyId: hashKey(PRO).slice(0, 12), model: 'gpt-4.1', providerModel: 'gpt-4.1-2025-04-14', credits: '12' });
});
