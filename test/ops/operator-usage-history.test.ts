// GET /admin/usage/history: totals by day and modality across accounts, on the memory ledger, on
// Redis and on a 3-master Redis Cluster. Three live accounts (two UTC, one Asia/Kolkata, +05:30)
// and one deleted, requests through the HTTP proxy in every modality (a BYOK call too) over four days; each day's totals
// are exact, equal the sum of every account's own daily history (in its own zone), and over
// December equal the sum of /admin/usage `used`; CSV agrees with JSON; the account reads are
// bounded; bad queries get 400 naming the parameter; no admin token gets 401.
import t from 'tap';
import type { Test } from 'tap';
import { startUpstream, json } from '../helpers/upstream.js';
import { ADMIN_TOKEN, startTollgate } from '../helpers/tollgate.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { startRedis } from '../helpers/redis.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { multipart, wavBytes } from '../voice-audio-fixtures.js';
import { readOperatorHistory, parseOperatorHistoryQuery } from '../../proxy/admin/operator-history.js';
import type { Ledger } from '../../ledger/types.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

// One stand-in for OpenAI, Kokoro and the RAG service: gpt-4.1 1,000 + 500 tokens is 12
// credits, gpt-4.1-mini 2.5; a 10 s WAV transcribed (whisper, 12 a minute) is 2; Kokoro 1,000
// characters is 4; a search is 2.
const up = await startUpstream((req, res) => {
  if (req.path === '/v1/chat/completions') {
    const model = (JSON.parse(req.body.toString('utf8')) as { model: string }).model;
    json(res, 200, { id: 'c', object: 'chat.completion', model, choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
  } else if (req.path === '/v1/audio/transcriptions') json(res, 200, { text: 'a tone', usage: { type: 'duration', seconds: 10 } });
  else if (req.path === '/v1/audio/speech') {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    res.end(Buffer.alloc(512, 0xff));
  } else if (req.path === '/search') json(res, 200, { results: [] });
  else res.writeHead(404).end();
});
t.teardown(() => up.close());

const KEYS = { ada: 'tg_ophist_ada_0000000000000000000001', kol: 'tg_ophist_kol_0000000000000000000002', zed: 'tg_ophist_zed_0000000000000000000003', gone: 'tg_ophist_gone_000000000000000000004' };
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const micro = (credits: number) => Math.round(credits * 1_000_000);

async function scenario(t: Test, redisCfg: Record<string, unknown> | undefined): Promise<void> {
  const clock = manualClock(utc(2026, 12, 2, 10));
  const tg = await startTollgate(
    {
      ...(redisCfg ? { redis: redisCfg } : {}),
      providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' }, kokoro: { baseUrl: up.url }, rag: { baseUrl: up.url } },
      accounts: [
        { id: 'ada', tier: 'pro', apiKeys: [KEYS.ada] },
        { id: 'kol', tier: 'pro', apiKeys: [KEYS.kol], timeZone: 'Asia/Kolkata' },
        { id: 'zed', tier: 'pro', apiKeys: [KEYS.zed] },
        { id: 'gone', tier: 'pro', apiKeys: [KEYS.gone] },
      ],
    },
    { clock },
  );
  t.teardown(() => tg.close());
  const send = async (url: string, key: string, body: Buffer | string, headers: Record<string, string> = {}) => {
    const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body });
    await r.arrayBuffer();
    t.equal(r.status, 200, url);
    // Settled before the clock moves on: each charge lands on the day it was made.
    await tg.app.pipeline.idle(5_000);
  };
  const chat = (key: string, model: string, headers: Record<string, string> = {}) => send(`${tg.base('openai')}/v1/chat/completions`, key, JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 500 }), headers);
  const speech = (key: string) => send(`${tg.base('kokoro')}/v1/audio/speech`, key, JSON.stringify({ model: 'kokoro', voice: 'af_bella', input: 'k'.repeat(1000), response_format: 'mp3' }));
  const search = (key: string) => send(`${tg.base('rag')}/search`, key, JSON.stringify({ query: 'q' }));
  const transcribe = (key: string) => {
    const m = multipart([
      { name: 'model', value: 'whisper-1' },
      { name: 'file', value: wavBytes(10_000, { sampleRate: 8_000, channels: 1, bitsPerSample: 16 }), filename: 'a.wav', contentType: 'audio/wav' },
    ]);
    return send(`${tg.base('openai')}/v1/audio/transcriptions`, key, m.body, { 'content-type': m.contentType });
  };

  // 2 Dec 10:00Z (15:30 in Kolkata): ada llm 12, tts 4; kol rag 2.
  await chat(KEYS.ada, 'gpt-4.1');
  await speech(KEYS.ada);
  await search(KEYS.kol);
  // 2 Dec 20:00Z: ada stt 2 (still the 2nd in UTC); kol gpt-4.1-mini 2.5 (01:30 on the 3rd in Kolkata).
  clock.set(utc(2026, 12, 2, 20));
  await transcribe(KEYS.ada);
  await chat(KEYS.kol, 'gpt-4.1-mini');
  // 3 Dec 12:00Z: zed llm 12 and a BYOK call (0); kol tts 4; ada rag 2; gone llm 12, then deleted.
  clock.set(utc(2026, 12, 3, 12));
  await chat(KEYS.zed, 'gpt-4.1');
  await chat(KEYS.zed, 'gpt-4.1', { 'X-Provider-Key-OpenAI': 'sk-customer-own-0001' });
  await speech(KEYS.kol);
  await search(KEYS.ada);
  await chat(KEYS.gone, 'gpt-4.1');
  // 5 Dec 23:00Z: kol rag 2, on the 6th in Kolkata.
  clock.set(utc(2026, 12, 5, 23));
  await search(KEYS.kol);
  t.equal((await fetch(`${tg.adminUrl}/admin/accounts/gone`, { method: 'DELETE', headers: admin })).status, 200);

  const get = async (path: string, headers: Record<string, string> = admin) => {
    const r = await fetch(`${tg.adminUrl}${path}`, { headers });
    return { status: r.status, type: r.headers.get('content-type'), body: r.headers.get('content-type')?.startsWith('text/csv') ? await r.text() : ((await r.json()) as any) };
  };

  const week = await get('/admin/usage/history?from=2026-12-01&to=2026-12-08');
  t.equal(week.status, 200);
  t.same(week.body, {
    granularity: 'day',
    from: '2026-12-01',
    to: '2026-12-08',
    accounts: 3,
    days: [
      { date: '2026-12-02', credits: 20, requests: 4, byokRequests: 0, modalities: { llm: { credits: 12, requests: 1 }, rag: { credits: 2, requests: 1 }, stt: { credits: 2, requests: 1 }, tts: { credits: 4, requests: 1 } } },
      { date: '2026-12-03', credits: 20.5, requests: 5, byokRequests: 1, modalities: { llm: { credits: 14.5, requests: 3 }, rag: { credits: 2, requests: 1 }, tts: { credits: 4, requests: 1 } } },
      { date: '2026-12-06', credits: 2, requests: 1, byokRequests: 0, modalities: { rag: { credits: 2, requests: 1 } } },
    ],
  });

  // The same, summed from each live account's own daily history (in its own zone).
  const expected = new Map<string, { micro: number; requests: number; byok: number; mods: Record<string, { micro: number; requests: number }> }>();
  for (const id of ['ada', 'kol', 'zed']) {
    const h = await get(`/admin/accounts/${id}/usage/history?granularity=day&groupBy=modality&from=2026-12-01&to=2026-12-08`);
    t.equal(h.status, 200, id);
    t.equal(h.body.tz, id === 'kol' ? 'Asia/Kolkata' : 'UTC');
    for (const b of h.body.buckets) {
      const date = b.start.slice(0, 10);
      const e = expected.get(date) ?? { micro: 0, requests: 0, byok: 0, mods: {} };
      e.micro += micro(b.credits);
      e.requests += b.requests;
      e.byok += b.byokRequests;
      for (const g of b.groups) {
        const m = (e.mods[g.modality] ??= { micro: 0, requests: 0 });
        m.micro += micro(g.credits);
        m.requests += g.requests;
      }
      expected.set(date, e);
    }
  }
  t.same(
    week.body.days.map((d: any) => ({ date: d.date, micro: micro(d.credits), requests: d.requests, byok: d.byokRequests, mods: Object.fromEntries(Object.entries(d.modalities).map(([m, v]: [string, any]) => [m, { micro: micro(v.credits), requests: v.requests }])) })),
    [...expected.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, e]) => ({ date, ...e })),
    'each day = the sum of the accounts\' own daily histories',
  );

  // Over December: the sum of what /admin/usage says each live account used (deleted ones left out of both).
  const dec = await get('/admin/usage/history?from=2026-12-01&to=2027-01-01');
  const usage = await get('/admin/usage');
  t.same(usage.body.accounts.map((a: any) => a.account), ['ada', 'kol', 'zed']);
  const usedMicro = usage.body.accounts.reduce((s: number, a: any) => s + micro(a.credits.used), 0);
  t.equal(usedMicro, 42_500_000);
  t.equal(dec.body.days.reduce((s: number, d: any) => s + micro(d.credits), 0), usedMicro, 'Σ days = Σ used');
  t.equal(dec.body.days.reduce((s: number, d: any) => s + d.requests, 0), usage.body.accounts.reduce((s: number, a: any) => s + a.requestCount, 0), 'Σ requests = Σ requestCount');

  // Default: the 30 days up to today (5 Dec, UTC), so Kolkata's 6 December is not in it.
  const def = await get('/admin/usage/history');
  t.match(def.body, { from: '2026-11-06', to: '2026-12-06', accounts: 3 });
  t.same(def.body.days.map((d: any) => d.date), ['2026-12-02', '2026-12-03']);
  t.same((await get('/admin/usage/history?from=2026-12-03')).body.days.map((d: any) => [d.date, d.credits]), [['2026-12-03', 20.5]], 'from alone: up to today');
  t.match((await get('/admin/usage/history?to=2026-12-03')).body, { from: '2026-11-03', to: '2026-12-03', days: [{ date: '2026-12-02' }] }, 'to alone: the 30 days before');

  const csv = await get('/admin/usage/history?from=2026-12-01&to=2026-12-08&format=csv');
  t.equal(csv.type, 'text/csv; charset=utf-8');
  t.equal(
    csv.body,
    [
      'date,modality,credits,requests',
      '2026-12-02,llm,12,1',
      '2026-12-02,rag,2,1',
      '2026-12-02,stt,2,1',
      '2026-12-02,tts,4,1',
      '2026-12-03,llm,14.5,3',
      '2026-12-03,rag,2,1',
      '2026-12-03,tts,4,1',
      '2026-12-06,rag,2,1',
      '',
    ].join('\n'),
  );
  const fromJson = week.body.days.flatMap((d: any) => Object.entries(d.modalities).map(([m, v]: [string, any]) => `${d.date},${m},${v.credits},${v.requests}`));
  t.same(csv.body.trim().split('\n').slice(1), fromJson, 'CSV rows = JSON days and modalities');

  // Bounded reads: with 2 at a time, 3 accounts are read in 3 calls, never more than 2 at once.
  let inFlight = 0;
  let most = 0;
  let calls = 0;
  const counted: Ledger = Object.create(tg.app.ledger);
  counted.historyBuckets = async (...a) => {
    calls++;
    most = Math.max(most, ++inFlight);
    try {
      return await tg.app.ledger.historyBuckets(...a);
    } finally {
      inFlight--;
    }
  };
  const q = parseOperatorHistoryQuery(new URLSearchParams('from=2026-12-01&to=2026-12-08'), clock.now());
  const two = await readOperatorHistory(counted, q, 2);
  t.same({ calls, most }, { calls: 3, most: 2 });
  t.same(two.days.map((d) => [d.date, d.micro]), [['2026-12-02', 20_000_000], ['2026-12-03', 20_500_000], ['2026-12-06', 2_000_000]]);
  t.same(await readOperatorHistory(tg.app.ledger, q, 1), two, 'one at a time: the same totals');

  const cases: Array<[string, RegExp]> = [
    ['from=2026-12-3', /^from: a date YYYY-MM-DD \(2026-12-01\), got "2026-12-3"$/],
    ['from=2026-12-01T00:00', /^from: a date YYYY-MM-DD/],
    ['to=2026-02-30', /^to: a date YYYY-MM-DD .*"2026-02-30"$/],
    ['from=2026-12-05&to=2026-12-05', /^to must be after from/],
    ['from=2026-12-05&to=2026-12-01', /^to must be after from/],
    ['format=xml', /^format: json or csv, got "xml"$/],
    ['tz=UTC', /^unknown parameter "tz": from, to, format$/],
    ['from=2025-10-31&to=2026-12-06', /^the range is 401 days: at most 400 days per query$/],
  ];
  for (const [query, msg] of cases) {
    const r = await get(`/admin/usage/history?${query}`);
    t.equal(r.status, 400, query);
    t.equal(r.body.error.code, 'invalid_request', query);
    t.match(r.body.error.message, msg, query);
  }
  const longest = await get('/admin/usage/history?from=2025-11-01&to=2026-12-06');
  t.equal(longest.status, 200, '400 days is allowed');
  t.equal(longest.body.days.length, 2);

  const none = await get('/admin/usage/history', {});
  t.equal(none.status, 401);
  t.equal(none.body.error.code, 'invalid_admin_token');
  t.equal((await get('/admin/usage/history', { authorization: `Bearer ${KEYS.ada}` })).status, 401, 'a customer key is not the admin token');
}

t.test('memory ledger', (t) => scenario(t, undefined));
t.test('redis ledger', (t) => scenario(t, { url: redis.url, keyPrefix: 'ophist' }));
t.test('redis cluster ledger (3 masters)', async (t) => {
  const cluster = await startRedisCluster({ masters: 3 });
  t.teardown(() => cluster.stop());
  await scenario(t, { cluster: { nodes: cluster.seeds }, keyPrefix: 'ophist' });
});
