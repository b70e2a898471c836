// Done-when (issue 21) on one real Redis Cluster of 3 masters (each with a replica), through
// two tollgate processes: a Free account's hard cap is exact under 40 concurrent requests;
// twenty accounts spread over every shard each show exactly what they used; a revocation
// reaches both processes; and two flushers report each account's overage to Stripe once,
// across a failover of one master in the middle of their run.

import t from 'tap';
import { pino } from 'pino';
import { createStripeGateway, createStripeMeterSink } from '../../billing/index.js';
import { createFlusher, createRedisLedger, systemClock } from '../../ledger/index.js';
import { createPricing } from '../../pricing/index.js';
import { startFakeStripe } from '../helpers/fake-stripe.js';
import { body, latch, writeJson } from '../helpers/llm-fixtures.js';
import { startOpsProcess } from '../helpers/ops-process.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { eventually } from '../helpers/tollgate.js';
import { startUpstream } from '../helpers/upstream.js';

const logger = pino({ level: 'silent' });
const ADMIN_TOKEN = 'admin_token_for_cluster_tests_1';
const PREFIX = 'tgc';
const FREE_KEY = 'tg_cluster_free_key_abcdefghijklmn01';
const N = 40;
const ids = Array.from({ length: 20 }, (_, i) => `shard-${String(i).padStart(2, '0')}`);
const keyOf = (i: number) => `tg_cluster_paid_key_abcdefghijk_${String(i).padStart(3, '0')}`;

const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
t.teardown(() => cluster.stop());

// The upstream: the Free account's 40 calls wait until all 40 are decided (every reservation
// held at once); the paid accounts' calls answer at once, 10 + 5 tokens each.
let freeRefused = 0;
let freeServed = 0;
const allDecided = latch();
const decided = () => {
  if (freeServed + freeRefused === N) allDecided.open();
};
const up = await startUpstream(async (req, res) => {
  const b = body(req);
  if (b.max_tokens === 10_000) {
    freeServed++;
    decided();
    await allDecided.wait;
  }
  const completion = b.max_tokens === 10_000 ? 10_000 : 5;
  writeJson(res, 200, JSON.stringify({
    id: 'chatcmpl-1', object: 'chat.completion', created: 1752000000, model: 'gpt-4.1-2025-04-14',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, logprobs: null, finish_reason: 'length' }],
    usage: { prompt_tokens: b.max_tokens === 10_000 ? 6 : 10, completion_tokens: completion, total_tokens: 10 + completion },
  }));
});
t.teardown(() => up.close());

const config = {
  redis: { cluster: { nodes: cluster.seeds }, keyPrefix: PREFIX },
  admin: { token: ADMIN_TOKEN },
  providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } },
  accounts: [{ id: 'free', tier: 'free', apiKeys: [FREE_KEY] }, ...ids.map((id, i) => ({ id, tier: 'pro', apiKeys: [keyOf(i)] }))],
  workers: 1,
};
const [a, b] = await Promise.all([startOpsProcess(config), startOpsProcess(config)]);
t.teardown(() => Promise.all([a.stop(), b.stop()]));
const proxies = [a.proxyUrl, b.proxyUrl];

const chat = (proxyUrl: string, key: string, maxTokens: number) =>
  fetch(`${proxyUrl}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4.1', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hello' }] }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code?: string } } }));

// A ledger of this test's own on the cluster, to read what the processes wrote.
const reader = await createRedisLedger({ cluster: { nodes: cluster.seeds }, keyPrefix: PREFIX, pricing: createPricing(), clock: systemClock, logger });
t.teardown(() => reader.close());

t.test('Free hard cap: 40 concurrent requests through two processes, exactly 15 served', async (t) => {
  // 9 input tokens reserved (5 bytes + 4) and 10,000 output: 160.036 credits each; 15 fit in
  // 2,500 (2,400.54), a 16th would not.
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      chat(proxies[i % 2]!, FREE_KEY, 10_000).then((r) => {
        if (r.status !== 200) {
          freeRefused++;
          decided();
        }
        return r;
      }),
    ),
  );
  const ok = results.filter((r) => r.status === 200).length;
  t.equal(ok, 15, 'served');
  t.equal(results.filter((r) => r.status === 402 && r.body.error?.code === 'insufficient_credits').length, 25, 'refused 402 insufficient_credits');
  t.equal(freeServed, 15, 'the provider saw 15 requests');
  t.equal(results.filter((r, i) => r.status === 200 && i % 2 === 0).length > 0 && results.filter((r, i) => r.status === 200 && i % 2 === 1).length > 0, true, 'both processes served some');
  // 6 + 10,000 tokens charged each: 160.024 credits.
  await eventually(async () => (await reader.usage('free')).requestCount === 15, 5_000);
  const u = await reader.usage('free');
  t.equal(u.usedMicro, 15 * 160_024_000);
  t.equal(u.reservedMicro, 0);
});

t.test('twenty accounts spread over every shard each show exactly what they used', async (t) => {
  const masters = cluster.nodes.filter((n) => n.role === 'master').map((n) => n.port);
  const owner = await Promise.all(ids.map((id) => cluster.masterOf(`${PREFIX}:{acct:${id}}:acct`)));
  for (const m of masters) t.ok(owner.filter((p) => p === m).length >= 1, `master ${m} holds ${owner.filter((p) => p === m).length} of the 20 accounts`);
  // Account i makes i + 1 requests, alternating processes, all at once.
  const calls = ids.flatMap((_, i) => Array.from({ length: i + 1 }, (_, j) => chat(proxies[(i + j) % 2]!, keyOf(i), 5)));
  const statuses = (await Promise.all(calls)).map((r) => r.status);
  t.same([...new Set(statuses)], [200], `all ${calls.length} answered 200`);
  // 10 input tokens × 0.004 + 5 output × 0.016 = 0.12 credits a request.
  await eventually(async () => {
    const us = await Promise.all(ids.map((id) => reader.usage(id)));
    return us.every((u, i) => u.requestCount === i + 1);
  }, 5_000);
  for (const [i, id] of ids.entries()) {
    const u = await reader.usage(id);
    t.same({ n: u.requestCount, used: u.usedMicro, held: u.reservedMicro }, { n: i + 1, used: (i + 1) * 120_000, held: 0 }, `${id} (master ${owner[i]})`);
  }
});

t.test('a key revoked through one process is refused by both within 1 s', async (t) => {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const issued = (await (await fetch(`${a.adminUrl}/admin/accounts/shard-03/keys`, { method: 'POST', headers: admin, body: '{}' })).json()) as { id: string; key: string };
  t.equal((await chat(a.proxyUrl, issued.key, 5)).status, 200);
  t.equal((await chat(b.proxyUrl, issued.key, 5)).status, 200, 'both processes hold the key in their caches');
  const revokedAt = Date.now();
  t.equal((await fetch(`${a.adminUrl}/admin/keys/${issued.id}`, { method: 'DELETE', headers: admin })).status, 200);
  const until401 = async (proxyUrl: string) => {
    for (;;) {
      if ((await chat(proxyUrl, issued.key, 5)).status === 401) return Date.now() - revokedAt;
      if (Date.now() - revokedAt > 5_000) return Infinity;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const [msA, msB] = await Promise.all([until401(a.proxyUrl), until401(b.proxyUrl)]);
  t.ok(msA < 1_000, `process A refuses it after ${msA} ms`);
  t.ok(msB < 1_000, `process B refuses it after ${msB} ms`);
});

t.test('two flushers report each account’s overage once, across a master failover mid-run', async (t) => {
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const over = ['over-a', 'over-b', 'over-c', 'over-d', 'over-e', 'over-f', 'over-g', 'over-h', 'over-i'];
  for (const id of over) {
    await reader.ensureAccount({ id, tier: 'pro' });
    // Pro includes 200,000 credits: 201,000 used leaves exactly 1,000 to report.
    await reader.settle({ accountId: id, requestId: `${id}-r`, modality: 'llm', provider: 'openai', byok: false, microCredits: 201_000_000_000, units: {}, outcome: 'ok' });
  }
  const flusher = async () => {
    const ledger = await createRedisLedger({ cluster: { nodes: cluster.seeds }, keyPrefix: PREFIX, pricing: createPricing(), clock: systemClock, logger });
    t.teardown(() => ledger.close());
    const gateway = createStripeGateway({ secretKey: fake.secretKey, apiBase: fake.url, logger });
    const sink = createStripeMeterSink({ gateway, ledger, eventName: 'tollgate_overage_credits', logger });
    return createFlusher({ ledger, sink, clock: systemClock, logger, backoffMs: 50, concurrency: 2 });
  };
  const [f1, f2] = await Promise.all([flusher(), flusher()]);
  // The master of one account's shard hands over to its replica while both flushers run.
  const victim = await cluster.masterOf(`${PREFIX}:{acct:over-a}:acct`);
  const replica = cluster.nodes.find((n) => n.role === 'replica' && n.masterPort === victim)!;
  const runs = Promise.all([f1.drain(), f2.drain()]);
  await cluster.nodeClient(replica.port).call('CLUSTER', 'FAILOVER');
  await runs;
  await cluster.waitOk();
  t.equal(await cluster.masterOf(`${PREFIX}:{acct:over-a}:acct`), replica.port, 'the replica took the shard over');
  // Whatever the failover cut short is finished by the next runs; nothing is sent twice.
  for (let i = 0; i < 5; i++) await Promise.all([f1.flushOnce(), f2.flushOnce()]);
  await Promise.all([f1.drain(), f2.drain()]);
  for (const id of over) {
    const customer = (await reader.getAccount(id))?.stripeCustomerId;
    t.match(customer, /^cus_/, `${id} has a customer`);
    t.equal(fake.meterTotal(customer!), 1_000, `${id}: exactly 1,000 credits at Stripe`);
    t.equal(fake.meterEventsFor(customer!).length, 1, `${id}: one meter event`);
    t.equal(await reader.outbox.reportedMicro(id), 1_000_000_000, `${id}: committed once`);
  }
  t.equal(fake.customers.size, over.length, 'one customer per account');
  // The twenty paid accounts above used 0.12-2.4 credits: nothing to report for them.
  t.equal(fake.meterEvents.length, over.length);
});
