// GET /v1/usage/history, /v1/usage/events and the burn rate through a running tollgate on Redis:
// requests through the HTTP proxy (metered, BYOK, a provider failure) on an account whose time
// zone (Europe/Paris) comes from the config; every range's buckets sum to what /v1/usage says was
// charged, exactly; CSV and JSON agree; each response's x-tollgate-request-id finds its receipt
// while the provider's own x-request-id passes untouched; bad queries get 400 with the reason.
import t from 'tap';
import { startUpstream, json } from '../helpers/upstream.js';
import { ADMIN_TOKEN, startTollgate } from '../helpers/tollgate.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { startRedis } from '../helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

// gpt-4.1: 1,000 prompt tokens and 500 completion tokens are 12 credits; "big" reports
// 30,000,000 prompt tokens: 120,008 credits.
let n = 0;
const up = await startUpstream((req, res) => {
  const body = JSON.parse(req.body.toString('utf8')) as { messages: Array<{ content: string }> };
  const said = body.messages[0]!.content;
  if (said === 'fail') return json(res, 500, { error: { message: 'boom', type: 'server_error' } }, { 'x-request-id': `req_up_${++n}` });
  const prompt = said === 'big' ? 30_000_000 : 1000;
  json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: prompt, completion_tokens: 500, total_tokens: prompt + 500 } }, { 'x-request-id': `req_up_${++n}` });
});
t.teardown(() => up.close());

const KEY = 'tg_history_key_000000000000000000001';
const BURN_KEY = 'tg_history_burn_00000000000000000002';
const clock = manualClock(utc(2026, 12, 3, 22, 30));
const tg = await startTollgate(
  {
    redis: { url: redis.url, keyPrefix: 'hx' },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
    accounts: [
      { id: 'paris', tier: 'pro', apiKeys: [KEY], timeZone: 'Europe/Paris' },
      { id: 'burner', tier: 'pro', apiKeys: [BURN_KEY] },
    ],
  },
  { clock },
);
t.teardown(() => tg.close());
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function chat(key: string, content: string, headers: Record<string, string> = {}): Promise<{ status: number; id: string; upstreamId: string | null }> {
  const r = await fetch(`${tg.proxyUrl}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content }], max_tokens: 500 }),
  });
  await r.arrayBuffer();
  await tg.app.pipeline.idle(5_000);
  return { status: r.status, id: r.headers.get('x-tollgate-request-id')!, upstreamId: r.headers.get('x-request-id') };
}
const get = async (path: string, key = KEY) => {
  const r = await fetch(`${tg.adminUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: r.status, type: r.headers.get('content-type'), body: r.headers.get('content-type')?.startsWith('text/csv') ? await r.text() : ((await r.json()) as any) };
};

// 22:30Z on 3 December is 23:30 in Paris: two calls. 23:30Z (00:30 on the 4th in Paris): a
// call, a BYOK call, a provider failure. 5 December 10:00Z: one more.
const ids: Array<{ id: string; upstreamId: string | null; status: number }> = [];
ids.push(await chat(KEY, 'hi'), await chat(KEY, 'hi'));
clock.set(utc(2026, 12, 3, 23, 30));
ids.push(await chat(KEY, 'hi'), await chat(KEY, 'hi', { 'X-Provider-Key-OpenAI': 'sk-customer-own-0001' }), await chat(KEY, 'fail'));
clock.set(utc(2026, 12, 5, 10));
ids.push(await chat(KEY, 'hi'));

t.test('every range sums to what the ledger charged; JSON and CSV agree', async (t) => {
  const usage = await tg.usage(KEY);
  t.equal(usage.credits.used, 48);
  t.equal(usage.requestCount, 6);

  // Defaults: the current period, by day, in the account's zone.
  const def = await get('/v1/usage/history');
  t.equal(def.status, 200);
  // The period is December in UTC, which ends at 01:00 on 1 January in Paris: the range is
  // widened to whole days of the account's zone.
  t.match(def.body, { granularity: 'day', tz: 'Europe/Paris', from: '2026-12-01T00:00:00+01:00', to: '2027-01-02T00:00:00+01:00' });
  t.same(
    def.body.buckets.map((b: any) => [b.start, b.end, b.credits, b.requests, b.byokRequests]),
    [
      ['2026-12-03T00:00:00+01:00', '2026-12-04T00:00:00+01:00', 24, 2, 0],
      ['2026-12-04T00:00:00+01:00', '2026-12-05T00:00:00+01:00', 12, 3, 1],
      ['2026-12-05T00:00:00+01:00', '2026-12-06T00:00:00+01:00', 12, 1, 0],
    ],
  );
  t.same(def.body.buckets[1].units, { inputTokens: 2000, outputTokens: 1000 }, 'the BYOK call\'s tokens are in its day, at zero credits');

  const hourly = await get('/v1/usage/history?granularity=hour&tz=UTC&from=2026-12-03&to=2026-12-06');
  t.same(
    hourly.body.buckets.map((b: any) => [b.start, b.credits, b.requests]),
    [
      ['2026-12-03T22:00:00+00:00', 24, 2],
      ['2026-12-03T23:00:00+00:00', 12, 3],
      ['2026-12-05T10:00:00+00:00', 12, 1],
    ],
  );
  // Days in another whole-hour zone are summed from the hourly buckets.
  const utcDays = await get('/v1/usage/history?granularity=day&tz=UTC&from=2026-12-01&to=2026-12-08');
  t.same(utcDays.body.buckets.map((b: any) => [b.start, b.credits, b.requests]), [
    ['2026-12-03T00:00:00+00:00', 36, 5],
    ['2026-12-05T00:00:00+00:00', 12, 1],
  ]);
  const nyHours = await get('/v1/usage/history?granularity=hour&tz=America/New_York&from=2026-12-03T17:00&to=2026-12-03T19:00');
  t.same(nyHours.body.buckets.map((b: any) => [b.start, b.credits]), [
    ['2026-12-03T17:00:00-05:00', 24],
    ['2026-12-03T18:00:00-05:00', 12],
  ]);
  const month = await get('/v1/usage/history?granularity=month&groupBy=modality,model');
  t.same(month.body.buckets, [
    {
      start: '2026-12-01T00:00:00+01:00',
      end: '2027-01-01T00:00:00+01:00',
      credits: 48,
      requests: 6,
      byokRequests: 1,
      groups: [{ modality: 'llm', model: 'gpt-4.1', credits: 48, requests: 6, units: { inputTokens: 5000, outputTokens: 2500 } }],
    },
  ]);
  for (const r of [def, hourly, utcDays, month]) t.equal(r.body.buckets.reduce((s: number, b: any) => s + b.credits, 0), usage.credits.used, 'Σ buckets = used');

  const csv = await get('/v1/usage/history?groupBy=modality&format=csv');
  t.equal(csv.type, 'text/csv; charset=utf-8');
  t.equal(
    csv.body,
    [
      'start,modality,model,credits,requests,chars,audioMs,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,queries',
      '2026-12-03T00:00:00+01:00,llm,,24,2,0,0,2000,1000,0,0,0',
      '2026-12-04T00:00:00+01:00,llm,,12,3,0,0,2000,1000,0,0,0',
      '2026-12-05T00:00:00+01:00,llm,,12,1,0,0,1000,500,0,0,0',
      '',
    ].join('\n'),
  );
  const admin1 = await get('/admin/accounts/paris/usage/history?groupBy=modality', ADMIN_TOKEN);
  const json1 = await get('/v1/usage/history?groupBy=modality');
  t.same({ ...admin1.body, dataRefreshedAt: 0 }, { ...json1.body, dataRefreshedAt: 0 }, 'the admin route answers the same');
});

t.test('bad queries: 400 invalid_request saying why', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['granularity=week', /granularity: hour, day or month/],
    ['tz=Mars/Olympus', /tz: an IANA time zone/],
    ['from=yesterday', /from: a date/],
    ['from=2026-12-05&to=2026-12-01', /to must be after from/],
    ['groupBy=provider', /groupBy: modality, model/],
    ['format=xml', /format: json or csv/],
    ['tz=Asia/Kolkata&granularity=day', /not whole hours.*tz=Europe\/Paris/],
    ['tz=UTC&granularity=day&from=2026-09-01', /kept 35 days/],
    ['granularity=hour&from=2025-01-01&to=2026-12-01', /too long/],
    ['limit=5', /unknown parameter "limit"/],
  ];
  for (const [q, msg] of cases) {
    const r = await get(`/v1/usage/history?${q}`);
    t.equal(r.status, 400, q);
    t.equal(r.body.error.code, 'invalid_request', q);
    t.match(r.body.error.message, msg, q);
  }
  t.equal((await get('/v1/usage/events?limit=0')).status, 400);
  t.equal((await get('/v1/usage/events?cursor=abc')).status, 400);
  t.equal((await get('/admin/accounts/nobody/usage/history', ADMIN_TOKEN)).status, 404);
});

t.test("every response's x-tollgate-request-id finds its receipt; the provider's x-request-id passes untouched", async (t) => {
  t.same(ids.map((r) => r.status), [200, 200, 200, 200, 500, 200]);
  t.same(ids.map((r) => r.upstreamId), ['req_up_1', 'req_up_2', 'req_up_3', 'req_up_4', 'req_up_5', 'req_up_6']);
  t.equal(new Set(ids.map((r) => r.id)).size, 6, 'tollgate ids are its own, one per request');
  const all = await get('/v1/usage/events?limit=10');
  t.equal(all.status, 200);
  t.same(all.body.events.map((e: any) => e.requestId), ids.map((r) => r.id).reverse(), 'one receipt per request, newest first');
  t.equal(all.body.nextCursor, null);
  const byId = new Map(all.body.events.map((e: any) => [e.requestId, e]));
  t.same(byId.get(ids[0]!.id), {
    requestId: ids[0]!.id,
    time: '2026-12-03T22:30:00.000Z',
    provider: 'openai',
    model: 'gpt-4.1',
    modality: 'llm',
    units: { inputTokens: 1000, outputTokens: 500 },
    credits: 12,
    outcome: 'ok',
    byok: false,
    keyId: all.body.events[0].keyId,
  });
  t.match(all.body.events[0].keyId, /^[0-9a-f]{12}$/);
  t.match(byId.get(ids[3]!.id), { byok: true, credits: 0, units: { inputTokens: 1000, outputTokens: 500 } });
  t.match(byId.get(ids[4]!.id), { outcome: 'upstream_error', credits: 0 });
  const p1 = await get('/v1/usage/events?limit=4');
  t.equal(p1.body.events.length, 4);
  const p2 = await get(`/v1/usage/events?limit=4&cursor=${p1.body.nextCursor}`);
  t.same(p2.body.events.map((e: any) => e.requestId), [ids[1]!.id, ids[0]!.id]);
  t.equal(p2.body.nextCursor, null);
  const viaAdmin = await get('/admin/accounts/paris/usage/events?limit=10', ADMIN_TOKEN);
  t.same(viaAdmin.body, all.body);
});

t.test('/v1/usage: burnRate over the last 7 days and projectedExhaustion', async (t) => {
  const u = await tg.usage(KEY);
  // 48 credits in the last 7 days: 6.857143 a day; 199,952 left would last past the period.
  t.equal(u.burnRate, 6.857143);
  t.equal(u.projectedExhaustion, null);
  t.same((await tg.usage(BURN_KEY)).burnRate, 0);
  t.equal((await tg.usage(BURN_KEY)).projectedExhaustion, null, 'nothing spent: no projection');
  t.equal((await chat(BURN_KEY, 'big')).status, 200);
  const b = await tg.usage(BURN_KEY);
  t.equal(b.credits.used, 120_008);
  // 120,008 / 7 = 17,144 a day; 79,992 left last 4.6659... days from 5 December 10:00Z.
  t.equal(b.burnRate, 17_144);
  t.equal(b.projectedExhaustion, new Date(utc(2026, 12, 5, 10) + Math.ceil((79_992_000_000 / 17_144_000_000) * 86_400_000)).toISOString());
  t.equal(b.projectedExhaustion.slice(0, 13), '2026-12-10T01', 'on 10 December, inside the period');
});

t.test('the admin API sets an account time zone on create and patch, validated', async (t) => {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${tg.adminUrl}${path}`, { method, headers: { ...admin, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const bad = await call('POST', '/admin/accounts', { id: 'tz1', tier: 'free', timeZone: 'Mars/Olympus' });
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /timeZone.*IANA time zone/);
  const made = await call('POST', '/admin/accounts', { id: 'tz1', tier: 'free', timeZone: 'America/Sao_Paulo' });
  t.equal(made.status, 201);
  t.equal(made.body.account.timeZone, 'America/Sao_Paulo');
  t.equal((await tg.app.ledger.getAccount('tz1'))!.timeZone, 'America/Sao_Paulo');
  const patched = await call('PATCH', '/admin/accounts/tz1', { timeZone: 'UTC' });
  t.equal(patched.body.account.timeZone, 'UTC');
  t.equal((await tg.app.ledger.getAccount('tz1'))!.timeZone, undefined, 'UTC is the default: not stored');
  const audit = await call('GET', '/admin/audit?account=tz1');
  t.same(audit.body.entries[0].after, { timeZone: 'UTC' }, 'the change is audited');
  t.same(audit.body.entries[0].before, { timeZone: 'America/Sao_Paulo' });
});
