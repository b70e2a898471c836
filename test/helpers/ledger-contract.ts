// Test helper: the ledger contract, one suite both backends must pass, with exact µcr everywhere.

import type { Test } from 'tap';
import type { Pricing } from '../../pricing/types.js';
import type { AlertOutbox, Clock, Ledger, OverageOutbox, PeriodSummary, SettleInput } from '../../ledger/types.js';
import type { AlertRecord, AlertRules } from '../../ledger/alert-rules.js';
import { hashApiKey } from '../../ledger/index.js';
import { manualClock, utc, type ManualClock } from './ledger-clock.js';
import { cr, testPricing } from './ledger-pricing.js';

export type TestLedger = Ledger & { outbox: OverageOutbox; alerts: AlertOutbox; history(accountId: string): Promise<PeriodSummary[]> };

/** Makes a fresh, empty ledger on `clock` (recording alerts by `extra.alerts`); `close` frees everything it made. */
export type LedgerFactory = (clock: Clock, pricing: Pricing, extra?: { alerts?: AlertRules }) => Promise<{ ledger: TestLedger; close(): Promise<void> }>;

const H = 3_600_000;
const DAY = 24 * H;

function settleInput(accountId: string, requestId: string, microCredits: number, extra: Partial<SettleInput> = {}): SettleInput {
  return { accountId, requestId, modality: 'llm', provider: 'openai', byok: false, microCredits, units: {}, outcome: 'ok', ...extra };
}

export function ledgerContract(t: Test, factory: LedgerFactory): void {
  async function setup(t: Test, start = utc(2026, 1, 10), pricing = testPricing(), alerts?: AlertRules): Promise<{ ledger: TestLedger; clock: ManualClock }> {
    const clock = manualClock(start);
    const { ledger, close } = await factory(clock, pricing, alerts ? { alerts } : undefined);
    t.teardown(close);
    return { ledger, clock };
  }

  t.test('accounts: ensure is create-if-missing, update patches, Stripe customer lookup', async (t) => {
    const { ledger } = await setup(t);
    const a = await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    t.same(a, { id: 'acme', tier: 'free', status: 'active', createdAt: utc(2026, 1, 10), overageCapMicro: null });
    const again = await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_x' });
    t.equal(again.tier, 'free', 'an existing account is returned unchanged');
    t.equal(again.stripeCustomerId, undefined);
    await ledger.ensureAccount({ id: 'beta', tier: 'scale', stripeCustomerId: 'cus_beta' });
    t.same((await ledger.listAccounts()).map((x) => x.id), ['acme', 'beta']);
    t.equal((await ledger.findAccountByStripeCustomer('cus_beta'))?.id, 'beta');

    const updated = await ledger.updateAccount('acme', {
      tier: 'pro',
      status: 'past_due',
      stripeCustomerId: 'cus_acme',
      stripeSubscriptionId: 'sub_1',
      overageCapMicro: cr(5000),
    });
    t.same(updated, {
      id: 'acme',
      tier: 'pro',
      status: 'past_due',
      createdAt: utc(2026, 1, 10),
      stripeCustomerId: 'cus_acme',
      stripeSubscriptionId: 'sub_1',
      overageCapMicro: 5_000_000_000,
    });
    t.equal((await ledger.findAccountByStripeCustomer('cus_acme'))?.id, 'acme');
    const cleared = await ledger.updateAccount('acme', { stripeCustomerId: null, stripeSubscriptionId: null, overageCapMicro: null });
    t.equal(cleared.stripeCustomerId, undefined);
    t.equal(cleared.stripeSubscriptionId, undefined);
    t.equal(cleared.overageCapMicro, null);
    t.equal(await ledger.findAccountByStripeCustomer('cus_acme'), null);
    t.equal(await ledger.getAccount('nobody'), null);
    await t.rejects(ledger.updateAccount('nobody', { tier: 'pro' }), { code: 'unknown_account' });
    await t.rejects(ledger.ensureAccount({ id: 'bad{id}', tier: 'free' }), { code: 'invalid_input' });
  });

  t.test('keys: hashes only, id = 12 hex chars, revocation by id or hash is announced', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    await ledger.ensureAccount({ id: 'other', tier: 'free' });
    const h1 = hashApiKey('tg_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    const h2 = hashApiKey('tg_live_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
    const info = await ledger.addKey('acme', h1, 'ci');
    t.same(info, { id: h1.slice(0, 12), accountId: 'acme', createdAt: utc(2026, 1, 10), label: 'ci' });
    await ledger.addKey('acme', h2);
    t.same(await ledger.addKey('acme', h1), info, 'adding the same key again changes nothing');
    await t.rejects(ledger.addKey('other', h1), { code: 'key_conflict' });
    await t.rejects(ledger.addKey('acme', 'not-a-hash'), { code: 'invalid_input' });
    t.same(await ledger.resolveKey(h1), { accountId: 'acme', keyId: h1.slice(0, 12), tier: 'free' });
    t.equal(await ledger.resolveKey(hashApiKey('unknown key 1234567')), null);

    const heard: string[] = [];
    const off = ledger.onKeyRevoked((h) => heard.push(h));
    t.teardown(off);
    t.equal(await ledger.revokeKey(h1.slice(0, 12)), true, 'revoke by id');
    t.equal(await ledger.revokeKey(h1), false, 'already revoked');
    t.equal(await ledger.revokeKey(h2), true, 'revoke by hash');
    t.equal(await ledger.revokeKey('zz'), false);
    const deadline = Date.now() + 1000;
    while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.same(heard, [h1, h2], 'listeners hear the hashes within a second');
    t.equal(await ledger.resolveKey(h1), null);
    const keys = await ledger.listKeys('acme');
    t.same(
      keys.map((k) => [k.id, k.revokedAt, k.label]),
      [
        [h1.slice(0, 12), utc(2026, 1, 10), 'ci'],
        [h2.slice(0, 12), utc(2026, 1, 10), undefined],
      ],
    );
  });

  t.test('secrets: opaque per-account blobs', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    await ledger.putSecret('acme', 'openai', 'sealed-1');
    await ledger.putSecret('acme', 'anthropic', 'sealed-2');
    t.equal(await ledger.getSecret('acme', 'openai'), 'sealed-1');
    t.same(await ledger.listSecrets('acme'), ['anthropic', 'openai']);
    t.equal(await ledger.deleteSecret('acme', 'openai'), true);
    t.equal(await ledger.deleteSecret('acme', 'openai'), false);
    t.equal(await ledger.getSecret('acme', 'openai'), null);
  });

  t.test('reserve then settle: exact µcr, reservation released, breakdown and requestCount', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'r1', microCredits: cr(160), ttlMs: 60_000 }), { ok: true });
    let u = await ledger.usage('acme');
    t.equal(u.reservedMicro, 160_000_000);
    t.equal(u.usedMicro, 0);
    t.same(await ledger.settle(settleInput('acme', 'r1', 123_456_789, { modality: 'tts' })), { applied: true });
    u = await ledger.usage('acme');
    t.same(u, {
      accountId: 'acme',
      tier: 'free',
      period: { start: utc(2026, 1, 1), end: utc(2026, 2, 1) },
      includedMicro: 2_500_000_000,
      carryoverMicro: 0,
      limitMicro: 2_500_000_000,
      usedMicro: 123_456_789,
      remainingMicro: 2_376_543_211,
      reservedMicro: 0,
      overageMicro: 0,
      breakdownMicro: { tts: 123_456_789, stt: 0, llm: 0, rag: 0 },
      requestCount: 1,
      byok: { requestCount: 0, units: { tts: {}, stt: {}, llm: {}, rag: {} } },
      carryover: [],
      lastRequestAt: utc(2026, 1, 10),
    });
    // A failed request settles at zero and still counts.
    await ledger.reserve({ accountId: 'acme', requestId: 'r2', microCredits: cr(10), ttlMs: 60_000 });
    await ledger.settle(settleInput('acme', 'r2', 0, { outcome: 'upstream_error', modality: 'stt' }));
    u = await ledger.usage('acme');
    t.equal(u.requestCount, 2);
    t.equal(u.usedMicro, 123_456_789);
    t.equal(u.reservedMicro, 0);
  });

  t.test('free hard cap: 40 concurrent reservations of 160 credits against 2,500: 15 held, 25 refused', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => ledger.reserve({ accountId: 'acme', requestId: `c${i}`, microCredits: cr(160), ttlMs: 60_000 })),
    );
    t.equal(results.filter((r) => r.ok).length, 15);
    const refused = results.filter((r) => !r.ok);
    t.equal(refused.length, 25);
    t.same(refused[0], { ok: false, reason: 'insufficient_credits', usedMicro: 0, limitMicro: 2_500_000_000 });
    t.equal((await ledger.usage('acme')).reservedMicro, 2_400_000_000);
  });

  t.test('idempotency: settling twice applies once, reserving twice holds once', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'r1', microCredits: cr(100), ttlMs: 60_000 }), { ok: true });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'r1', microCredits: cr(100), ttlMs: 60_000 }), { ok: true });
    t.equal((await ledger.usage('acme')).reservedMicro, 100_000_000, 'held once');
    const both = await Promise.all([ledger.settle(settleInput('acme', 'r1', cr(42))), ledger.settle(settleInput('acme', 'r1', cr(42)))]);
    t.same(both.map((r) => r.applied).sort(), [false, true]);
    t.same(await ledger.settle(settleInput('acme', 'r1', cr(42))), { applied: false });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'r1', microCredits: cr(100), ttlMs: 60_000 }), { ok: true });
    const u = await ledger.usage('acme');
    t.equal(u.usedMicro, 42_000_000);
    t.equal(u.requestCount, 1);
    t.equal(u.reservedMicro, 0, 'a reserve after the settle holds nothing');
  });

  t.test('reservations expire: a crashed request holds nothing after its ttl', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'lost', microCredits: cr(2400), ttlMs: 30_000 }), { ok: true });
    const refused = await ledger.reserve({ accountId: 'acme', requestId: 'next', microCredits: cr(200), ttlMs: 30_000 });
    t.equal(refused.ok, false);
    clock.advance(29_999);
    t.equal((await ledger.usage('acme')).reservedMicro, 2_400_000_000, 'still held 1 ms before expiry');
    clock.advance(1);
    t.equal((await ledger.usage('acme')).reservedMicro, 0, 'released at expiry');
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'next', microCredits: cr(200), ttlMs: 30_000 }), { ok: true });
    // The late settle of the expired request still applies its actual cost.
    t.same(await ledger.settle(settleInput('acme', 'lost', cr(7))), { applied: true });
    const u = await ledger.usage('acme');
    t.equal(u.usedMicro, 7_000_000);
    t.equal(u.reservedMicro, 200_000_000);
  });

  t.test('an expired reservation settles at its floor, once; a late settle adds only what it cost beyond', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    const hold = (requestId: string, microCredits: number, floorMicro: number) =>
      ledger.reserve({ accountId: 'acme', requestId, microCredits, floorMicro, modality: 'tts', ttlMs: 30_000 });
    t.same(await hold('lost', cr(2400), cr(100)), { ok: true });
    t.same(await hold('low', cr(60), cr(50)), { ok: true });
    clock.advance(29_999);
    let u = await ledger.usage('acme');
    t.equal(u.usedMicro, 0, 'nothing charged 1 ms before expiry');
    t.equal(u.reservedMicro, cr(2460));
    clock.advance(1);
    u = await ledger.usage('acme');
    t.equal(u.usedMicro, cr(150), 'at expiry: both floors charged (100 + 50 credits)');
    t.equal(u.breakdownMicro.tts, cr(150), 'to the modality recorded at reserve time');
    t.equal(u.requestCount, 2, 'each counted as one request');
    t.equal(u.reservedMicro, 0);
    t.equal((await ledger.usage('acme')).usedMicro, cr(150), 'charged once, however often it is read');
    t.same(await hold('lost', cr(2400), cr(100)), { ok: true }, 'a late reserve of the same id holds nothing');
    t.equal((await ledger.usage('acme')).reservedMicro, 0);
    // The real settles arrive late: 130 credits is 30 beyond the floor; 20 is below its floor of 50.
    t.same(await ledger.settle(settleInput('acme', 'lost', cr(130), { modality: 'tts' })), { applied: true });
    t.same(await ledger.settle(settleInput('acme', 'low', cr(20), { modality: 'tts' })), { applied: true });
    t.same(await ledger.settle(settleInput('acme', 'lost', cr(130), { modality: 'tts' })), { applied: false });
    u = await ledger.usage('acme');
    t.equal(u.usedMicro, cr(180), '130 + 50: the actual cost above the floor, never less than the floor');
    t.equal(u.breakdownMicro.tts, cr(180));
    t.equal(u.requestCount, 2, 'a late settle is not a second request');

    // A paid account: the floor accrues overage like any settle.
    await ledger.ensureAccount({ id: 'pro', tier: 'pro' });
    await ledger.settle(settleInput('pro', 'base', cr(200_000)));
    await ledger.reserve({ accountId: 'pro', requestId: 'p1', microCredits: cr(9), floorMicro: cr(4), modality: 'llm', ttlMs: 1000 });
    clock.advance(1000);
    u = await ledger.usage('pro');
    t.equal(u.usedMicro, cr(200_004));
    t.equal(u.overageMicro, cr(4));
    t.equal(u.breakdownMicro.llm, cr(200_004));
    await t.rejects(ledger.reserve({ accountId: 'pro', requestId: 'p2', microCredits: cr(1), floorMicro: cr(2), modality: 'llm', ttlMs: 1000 }), { code: 'invalid_input' });
    await t.rejects(ledger.reserve({ accountId: 'pro', requestId: 'p2', microCredits: cr(2), floorMicro: cr(1), ttlMs: 1000 }), { code: 'invalid_input' });
  });

  t.test('settle without reservation applies; free stops at its limit and has no overage', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    t.same(await ledger.settle(settleInput('acme', 'x1', cr(2600))), { applied: true, writtenOffMicro: 100_000_000 });
    const u = await ledger.usage('acme');
    t.equal(u.usedMicro, 2_500_000_000);
    t.equal(u.remainingMicro, 0);
    t.equal(u.overageMicro, 0);
    t.same(await ledger.outbox.prepare('acme', 'cus_x', utc(2026, 1, 10)), { kind: 'none', remainderMicro: 0 }, 'free accounts never produce overage');
    const r = await ledger.reserve({ accountId: 'acme', requestId: 'x2', microCredits: 0, ttlMs: 1000 });
    t.same(r, { ok: true }, 'a zero estimate still fits at the limit');
    const r3 = await ledger.reserve({ accountId: 'acme', requestId: 'x3', microCredits: 1, ttlMs: 1000 });
    t.same(r3, { ok: false, reason: 'insufficient_credits', usedMicro: 2_500_000_000, limitMicro: 2_500_000_000 });
    await t.rejects(ledger.settle(settleInput('nobody', 'x3', 1)), { code: 'unknown_account' });
  });

  t.test('hard cap: a Free settle past its limit is charged up to it, the rest written off, the breakdown clamped', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'a', microCredits: cr(2000), ttlMs: 60_000 }), { ok: true });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'b', microCredits: cr(400), ttlMs: 60_000 }), { ok: true });
    // The model wrote more than `a` reserved: 2,300.123456 credits; within the limit, all charged.
    t.same(await ledger.settle(settleInput('acme', 'a', 2_300_123_456, { modality: 'llm' })), { applied: true });
    // `b` (reserved 400) reports 345.678901 credits of STT: 199.876544 fit, 145.802357 are written off.
    t.same(await ledger.settle(settleInput('acme', 'b', 345_678_901, { modality: 'stt' })), { applied: true, writtenOffMicro: 145_802_357 });
    // A third request at the limit: all of it written off, still counted.
    t.same(await ledger.settle(settleInput('acme', 'c', 7_000_001, { modality: 'tts' })), { applied: true, writtenOffMicro: 7_000_001 });
    t.same(await ledger.settle(settleInput('acme', 'c', 7_000_001, { modality: 'tts' })), { applied: false }, 'a duplicate writes nothing off again');
    const u = await ledger.usage('acme');
    t.equal(u.usedMicro, 2_500_000_000);
    t.same(u.breakdownMicro, { tts: 0, stt: 199_876_544, llm: 2_300_123_456, rag: 0 });
    t.equal(u.remainingMicro, 0);
    t.equal(u.reservedMicro, 0);
    t.equal(u.requestCount, 3);
    t.equal(u.overageMicro, 0);
  });

  t.test('hard cap: a spend limit is a hard cap at limit + spend limit; an unlimited paid account pays it all', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'capped', tier: 'starter', stripeCustomerId: 'cus_c' });
    await ledger.updateAccount('capped', { overageCapMicro: cr(10) });
    await ledger.ensureAccount({ id: 'open', tier: 'starter', stripeCustomerId: 'cus_o' });
    t.same(await ledger.reserve({ accountId: 'capped', requestId: 'r', microCredits: cr(49_999), ttlMs: 60_000 }), { ok: true }, 'a spend-limited account is capped: no `open`');
    t.same(await ledger.settle(settleInput('capped', 'r', 50_012_500_000)), { applied: true, writtenOffMicro: 2_500_000 });
    let u = await ledger.usage('capped');
    t.equal(u.usedMicro, 50_010_000_000);
    t.equal(u.overageMicro, 10_000_000, 'overage stops at the spend limit');
    t.same(u.breakdownMicro, { tts: 0, stt: 0, llm: 50_010_000_000, rag: 0 });
    const p = await ledger.outbox.prepare('capped', null, utc(2026, 1, 10));
    t.equal(p.kind === 'batch' && p.batch.value, 10, 'Stripe is sent the 10 credits within the limit, not 12.5');
    const r = await ledger.reserve({ accountId: 'open', requestId: 'r', microCredits: cr(49_999), ttlMs: 60_000 });
    t.equal(r.ok && (r.open === true || r.local === true), true, 'no hard cap, no spend limit: open (or admitted locally, which implies it)');
    t.same(await ledger.settle(settleInput('open', 'r', 50_012_500_000)), { applied: true });
    u = await ledger.usage('open');
    t.equal(u.usedMicro, 50_012_500_000);
    t.equal(u.overageMicro, 12_500_000);
  });

  t.test('BYOK: zero credits, counted in requestCount and under byok with units summed', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    await ledger.settle(settleInput('acme', 'b1', 0, { byok: true, modality: 'tts', provider: 'elevenlabs', units: { chars: 1000 } }));
    await ledger.settle(settleInput('acme', 'b2', 999, { byok: true, modality: 'tts', provider: 'elevenlabs', units: { chars: 234 } }));
    await ledger.settle(
      settleInput('acme', 'b3', 0, { byok: true, modality: 'llm', units: { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 0 } }),
    );
    await ledger.settle(settleInput('acme', 'm1', cr(12)));
    const u = await ledger.usage('acme');
    t.equal(u.requestCount, 4);
    t.equal(u.usedMicro, 12_000_000, 'BYOK credits are ignored');
    t.same(u.breakdownMicro, { tts: 0, stt: 0, llm: 12_000_000, rag: 0 });
    t.same(u.byok, { requestCount: 3, units: { tts: { chars: 1234 }, stt: {}, llm: { inputTokens: 1000, outputTokens: 500 }, rag: {} } });
  });

  t.test('a settle with requests: 0 charges and releases but counts no request (a session is one request)', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    for (const id of ['s:0', 's:1', 's:2']) t.match(await ledger.reserve({ accountId: 'acme', requestId: id, microCredits: cr(2), ttlMs: 60_000 }), { ok: true });
    await ledger.settle({ ...settleInput('acme', 's:0', 750_000, { modality: 'stt', provider: 'deepgram' }), requests: 0 });
    await ledger.settle({ ...settleInput('acme', 's:1', 0, { modality: 'stt', provider: 'deepgram' }), requests: 0 });
    await ledger.settle(settleInput('acme', 's:2', 600_000, { modality: 'stt', provider: 'deepgram' }));
    await ledger.settle({ ...settleInput('acme', 'b:0', 0, { byok: true, modality: 'stt', provider: 'deepgram', units: { audioMs: 2_000 } }), requests: 0 });
    await ledger.settle(settleInput('acme', 'b:1', 0, { byok: true, modality: 'stt', provider: 'deepgram', units: { audioMs: 1_000 } }));
    const u = await ledger.usage('acme');
    t.equal(u.usedMicro, 1_350_000, 'every settle charged');
    t.equal(u.reservedMicro, 0, 'every reservation released');
    t.equal(u.requestCount, 2, 'one metered session, one BYOK session');
    t.same(u.byok, { requestCount: 1, units: { tts: {}, stt: { audioMs: 3_000 }, llm: {}, rag: {} } });
  });

  t.test('unknown account: reserve refuses, usage rejects', async (t) => {
    const { ledger } = await setup(t);
    t.same(await ledger.reserve({ accountId: 'ghost', requestId: 'r', microCredits: 1, ttlMs: 1000 }), {
      ok: false,
      reason: 'unknown_account',
      usedMicro: 0,
      limitMicro: 0,
    });
    await t.rejects(ledger.usage('ghost'), { code: 'unknown_account' });
  });

  t.test('paid overage: a Pro account using 201,000 credits has exactly 1,000 credits pending', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
    for (let i = 0; i < 201; i++) {
      const ok = await ledger.reserve({ accountId: 'acme', requestId: `r${i}`, microCredits: cr(1000), ttlMs: 60_000 });
      t.equal(ok.ok, true);
      await ledger.settle(settleInput('acme', `r${i}`, cr(1000)));
    }
    const u = await ledger.usage('acme');
    t.equal(u.usedMicro, 201_000_000_000);
    t.equal(u.limitMicro, 200_000_000_000);
    t.equal(u.remainingMicro, 0);
    t.equal(u.overageMicro, 1_000_000_000);
    const p = await ledger.outbox.prepare('acme', 'cus_acme', utc(2026, 1, 10));
    t.same(p, {
      kind: 'batch',
      batch: {
        accountId: 'acme',
        identifier: `tg_acme_${utc(2026, 1, 1) / 1000}_1`,
        stripeCustomerId: 'cus_acme',
        value: 1000,
        timestamp: utc(2026, 1, 10) / 1000,
        periodStart: utc(2026, 1, 1),
      },
    });
  });

  t.test('overage cap: a paid account is refused past its spend limit', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'starter' });
    await ledger.updateAccount('acme', { overageCapMicro: cr(10) });
    await ledger.settle(settleInput('acme', 's1', cr(50_000)));
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'a', microCredits: cr(11), ttlMs: 1000 }), {
      ok: false,
      reason: 'overage_cap',
      usedMicro: 50_000_000_000,
      limitMicro: 50_000_000_000,
    });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'b', microCredits: cr(10), ttlMs: 1000 }), { ok: true });
    await ledger.updateAccount('acme', { overageCapMicro: null });
    t.same(await ledger.reserve({ accountId: 'acme', requestId: 'c', microCredits: cr(1_000_000), ttlMs: 1000 }), { ok: true, open: true }, 'no spend limit: open');
  });

  t.test('a tier change takes effect on the next reserve, with the configured tier numbers', async (t) => {
    const { ledger } = await setup(t, utc(2026, 1, 10), testPricing({ pro: { includedMicro: cr(3000) } }));
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    const req = (id: string) => ledger.reserve({ accountId: 'acme', requestId: id, microCredits: cr(2900), ttlMs: 1000 });
    t.equal((await req('a')).ok, false);
    await ledger.updateAccount('acme', { tier: 'pro' });
    t.same(await req('b'), { ok: true, open: true });
    const u = await ledger.usage('acme');
    t.equal(u.tier, 'pro');
    t.equal(u.limitMicro, 3_000_000_000, 'the operator-overridden Pro allowance');
  });

  t.test('rollover: starter carries one period, spent first, then expires', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'starter' });
    await ledger.settle(settleInput('acme', 'jan', cr(30_000)));

    clock.set(utc(2026, 2, 3));
    let u = await ledger.usage('acme');
    t.same(u.period, { start: utc(2026, 2, 1), end: utc(2026, 3, 1) });
    t.equal(u.usedMicro, 0);
    t.equal(u.requestCount, 0);
    t.equal(u.carryoverMicro, cr(20_000));
    t.equal(u.limitMicro, cr(70_000));
    t.same(u.carryover, [{ fromPeriodStart: utc(2026, 1, 1), remainingMicro: cr(20_000), expiresAt: utc(2026, 3, 1) }]);

    await ledger.settle(settleInput('acme', 'feb', cr(25_000)));
    u = await ledger.usage('acme');
    t.same(u.carryover, [{ fromPeriodStart: utc(2026, 1, 1), remainingMicro: 0, expiresAt: utc(2026, 3, 1) }], 'carryover spent first');
    t.equal(u.remainingMicro, cr(45_000));

    clock.set(utc(2026, 3, 1));
    u = await ledger.usage('acme');
    t.same(u.carryover, [{ fromPeriodStart: utc(2026, 2, 1), remainingMicro: cr(45_000), expiresAt: utc(2026, 4, 1) }]);
    t.equal(u.limitMicro, cr(95_000));

    clock.set(utc(2026, 4, 2));
    u = await ledger.usage('acme');
    t.same(
      u.carryover,
      [{ fromPeriodStart: utc(2026, 3, 1), remainingMicro: cr(50_000), expiresAt: utc(2026, 5, 1) }],
      'February’s unspent 45,000 expired after one period',
    );
    t.equal(u.limitMicro, cr(100_000));
    const hist = await ledger.history('acme');
    t.same(
      hist.map((p) => [p.start, p.usedMicro, p.carryoverMicro, p.unusedIncludedMicro]),
      [
        [utc(2026, 3, 1), 0, cr(45_000), cr(50_000)],
        [utc(2026, 2, 1), cr(25_000), cr(20_000), cr(45_000)],
        [utc(2026, 1, 1), cr(30_000), 0, cr(20_000)],
      ],
    );
  });

  t.test('rollover: scale keeps carryover two periods, soonest-expiring spent first', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'big', tier: 'scale' });
    await ledger.settle(settleInput('big', 'jan', cr(400_000)));
    clock.set(utc(2026, 2, 1));
    await ledger.settle(settleInput('big', 'feb', cr(100_000)));
    let u = await ledger.usage('big');
    t.same(u.carryover, [{ fromPeriodStart: utc(2026, 1, 1), remainingMicro: cr(500_000), expiresAt: utc(2026, 4, 1) }]);

    clock.set(utc(2026, 3, 1));
    await ledger.settle(settleInput('big', 'mar', cr(700_000)));
    u = await ledger.usage('big');
    t.equal(u.limitMicro, cr(2_500_000));
    t.same(u.carryover, [
      { fromPeriodStart: utc(2026, 1, 1), remainingMicro: 0, expiresAt: utc(2026, 4, 1) },
      { fromPeriodStart: utc(2026, 2, 1), remainingMicro: cr(800_000), expiresAt: utc(2026, 5, 1) },
    ]);
    t.equal(u.overageMicro, 0);

    clock.set(utc(2026, 4, 1));
    u = await ledger.usage('big');
    t.same(u.carryover, [
      { fromPeriodStart: utc(2026, 2, 1), remainingMicro: cr(800_000), expiresAt: utc(2026, 5, 1) },
      { fromPeriodStart: utc(2026, 3, 1), remainingMicro: cr(1_000_000), expiresAt: utc(2026, 6, 1) },
    ]);
    t.equal(u.limitMicro, cr(2_800_000));

    clock.set(utc(2026, 5, 1));
    u = await ledger.usage('big');
    t.same(
      u.carryover,
      [
        { fromPeriodStart: utc(2026, 3, 1), remainingMicro: cr(1_000_000), expiresAt: utc(2026, 6, 1) },
        { fromPeriodStart: utc(2026, 4, 1), remainingMicro: cr(1_000_000), expiresAt: utc(2026, 7, 1) },
      ],
      'February’s bucket expired after two periods',
    );
    t.equal(u.limitMicro, cr(3_000_000));
  });

  t.test('rollover: pro carries one period; free carries nothing', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'p', tier: 'pro' });
    await ledger.ensureAccount({ id: 'f', tier: 'free' });
    await ledger.settle(settleInput('p', 'p1', cr(150_000)));
    await ledger.settle(settleInput('f', 'f1', cr(1_000)));
    clock.set(utc(2026, 2, 14));
    const p = await ledger.usage('p');
    t.equal(p.limitMicro, cr(250_000));
    t.same(p.carryover, [{ fromPeriodStart: utc(2026, 1, 1), remainingMicro: cr(50_000), expiresAt: utc(2026, 3, 1) }]);
    const f = await ledger.usage('f');
    t.equal(f.limitMicro, cr(2_500));
    t.equal(f.carryoverMicro, 0);
    t.same(f.carryover, []);
    clock.set(utc(2026, 3, 14));
    const p2 = await ledger.usage('p');
    t.same(p2.carryover, [{ fromPeriodStart: utc(2026, 2, 1), remainingMicro: cr(200_000), expiresAt: utc(2026, 4, 1) }]);
    t.equal(p2.limitMicro, cr(400_000));
  });

  t.test('rollover: an account idle for several periods catches up period by period', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'idle', tier: 'starter' });
    clock.set(utc(2026, 4, 20));
    const u = await ledger.usage('idle');
    t.same(u.period, { start: utc(2026, 4, 1), end: utc(2026, 5, 1) });
    t.same(u.carryover, [{ fromPeriodStart: utc(2026, 3, 1), remainingMicro: cr(50_000), expiresAt: utc(2026, 5, 1) }]);
    t.equal((await ledger.history('idle')).length, 3);
  });

  t.test('rollover: concurrent operations at a boundary roll once', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.settle(settleInput('acme', 'jan', cr(100_000)));
    clock.set(utc(2026, 2, 1));
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 2
          ? ledger.settle(settleInput('acme', `s${i}`, cr(1)))
          : ledger.reserve({ accountId: 'acme', requestId: `r${i}`, microCredits: cr(1), ttlMs: 60_000 }),
      ),
    );
    const u = await ledger.usage('acme');
    t.equal((await ledger.history('acme')).length, 1, 'one closed period');
    t.equal(u.requestCount, 15);
    t.equal(u.usedMicro, cr(15));
    t.equal(u.carryoverMicro, cr(100_000));
    t.equal(u.reservedMicro, cr(15));
  });

  t.test('periods follow Stripe once given, by calendar month from the anchor', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 1, 20));
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    await ledger.settle(settleInput('acme', 'free-use', cr(2_000)));
    // Subscribing (the webhook arrives after Stripe's period began): the free calendar period
    // closes at Stripe's start under the free tier (no carryover), Stripe's period runs on Pro.
    clock.set(utc(2026, 1, 20, 10));
    await ledger.updateAccount('acme', { tier: 'pro', period: { start: utc(2026, 1, 20, 9), end: utc(2026, 2, 20, 9) } });
    let u = await ledger.usage('acme');
    t.same(u.period, { start: utc(2026, 1, 20, 9), end: utc(2026, 2, 20, 9) });
    t.equal(u.usedMicro, 0);
    t.equal(u.limitMicro, cr(200_000));
    await ledger.settle(settleInput('acme', 'pro-use', cr(150_000)));
    clock.set(utc(2026, 2, 20, 9));
    u = await ledger.usage('acme');
    t.same(u.period, { start: utc(2026, 2, 20, 9), end: utc(2026, 3, 20, 9) });
    t.same(u.carryover, [{ fromPeriodStart: utc(2026, 1, 20, 9), remainingMicro: cr(50_000), expiresAt: utc(2026, 3, 20, 9) }]);
    // The same period again (a webhook retry) changes nothing.
    await ledger.updateAccount('acme', { period: { start: utc(2026, 2, 20, 9), end: utc(2026, 3, 20, 9) } });
    t.same((await ledger.usage('acme')).period, { start: utc(2026, 2, 20, 9), end: utc(2026, 3, 20, 9) });
    const hist = await ledger.history('acme');
    t.same(
      hist.map((p) => [p.start, p.end, p.tier, p.usedMicro]),
      [
        [utc(2026, 1, 20, 9), utc(2026, 2, 20, 9), 'pro', cr(150_000)],
        [utc(2026, 1, 1), utc(2026, 1, 20, 9), 'free', cr(2_000)],
      ],
    );
  });

  t.test('a Stripe period starting seconds after ours is the same period (no extra carryover)', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 2, 10));
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.settle(settleInput('acme', 'early', cr(1_000)));
    await ledger.updateAccount('acme', { period: { start: utc(2026, 2, 1, 0, 0, 3), end: utc(2026, 3, 1, 0, 0, 3) } });
    const u = await ledger.usage('acme');
    t.same(u.period, { start: utc(2026, 2, 1, 0, 0, 3), end: utc(2026, 3, 1, 0, 0, 3) });
    t.equal(u.usedMicro, cr(1_000), 'counters kept');
    t.equal(u.carryoverMicro, 0);
    t.same(await ledger.history('acme'), []);
    clock.set(utc(2026, 3, 2));
    t.same((await ledger.usage('acme')).period, { start: utc(2026, 3, 1, 0, 0, 3), end: utc(2026, 4, 1, 0, 0, 3) });
  });

  t.test('a period that is not whole months (a trial) is followed by a month from its end', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 2, 10, 12));
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    await ledger.updateAccount('acme', { tier: 'starter', period: { start: utc(2026, 2, 10, 12), end: utc(2026, 2, 24, 12) } });
    t.same((await ledger.usage('acme')).period, { start: utc(2026, 2, 10, 12), end: utc(2026, 2, 24, 12) });
    clock.set(utc(2026, 2, 25));
    const u = await ledger.usage('acme');
    t.same(u.period, { start: utc(2026, 2, 24, 12), end: utc(2026, 3, 24, 12) });
    t.same(u.carryover, [{ fromPeriodStart: utc(2026, 2, 10, 12), remainingMicro: cr(50_000), expiresAt: utc(2026, 3, 24, 12) }]);
    clock.set(utc(2026, 3, 25));
    t.same((await ledger.usage('acme')).period, { start: utc(2026, 3, 24, 12), end: utc(2026, 4, 24, 12) });
  });

  t.test('an anchor on the 31st clamps to short months and returns to the 31st', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 1, 31, 12));
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.updateAccount('acme', { period: { start: utc(2026, 1, 31), end: utc(2026, 2, 28) } });
    clock.set(utc(2026, 3, 1));
    t.same((await ledger.usage('acme')).period, { start: utc(2026, 2, 28), end: utc(2026, 3, 31) });
    clock.set(utc(2026, 4, 15));
    t.same((await ledger.usage('acme')).period, { start: utc(2026, 3, 31), end: utc(2026, 4, 30) });
    clock.set(utc(2028, 2, 28, 1)); // a leap year
    t.same((await ledger.usage('acme')).period, { start: utc(2028, 1, 31), end: utc(2028, 2, 29) });
    clock.advance(DAY);
    t.same((await ledger.usage('acme')).period, { start: utc(2028, 2, 29), end: utc(2028, 3, 31) });
  });

  t.test('overage from a closed period is stamped one second before its end', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'starter', stripeCustomerId: 'cus_a' });
    await ledger.settle(settleInput('acme', 'big', cr(50_002) + 500_000));
    clock.set(utc(2026, 2, 2));
    await ledger.settle(settleInput('acme', 'feb', cr(50_000) + 700_000));
    const first = await ledger.outbox.prepare('acme', 'cus_a', clock.now());
    t.same(first, {
      kind: 'batch',
      batch: {
        accountId: 'acme',
        identifier: `tg_acme_${utc(2026, 1, 1) / 1000}_1`,
        stripeCustomerId: 'cus_a',
        value: 2,
        timestamp: utc(2026, 2, 1) / 1000 - 1,
        periodStart: utc(2026, 1, 1),
      },
    });
    t.same(await ledger.outbox.prepare('acme', 'cus_a', clock.now()), first, 'the same batch until committed');
    t.equal(await ledger.outbox.commit('acme', 'tg_wrong'), false);
    t.equal(await ledger.outbox.commit('acme', first.kind === 'batch' ? first.batch.identifier : ''), true);
    // January's 0.5 and February's 0.7 make one whole credit, stamped now; 0.2 stays.
    const second = await ledger.outbox.prepare('acme', 'cus_a', clock.now());
    t.same(second, {
      kind: 'batch',
      batch: {
        accountId: 'acme',
        identifier: `tg_acme_${utc(2026, 2, 1) / 1000}_2`,
        stripeCustomerId: 'cus_a',
        value: 1,
        timestamp: utc(2026, 2, 2) / 1000,
        periodStart: utc(2026, 2, 1),
      },
    });
    await ledger.outbox.commit('acme', second.kind === 'batch' ? second.batch.identifier : '');
    t.same(await ledger.outbox.prepare('acme', 'cus_a', clock.now()), { kind: 'none', remainderMicro: 200_000 });
    t.equal(await ledger.outbox.reportedMicro('acme'), cr(3));
  });

  t.test('overage older than Stripe’s 35-day window is stamped now', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.settle(settleInput('acme', 'big', cr(200_005)));
    clock.set(utc(2026, 3, 10)); // Jan's end is 37 days ago
    const p = await ledger.outbox.prepare('acme', null, clock.now());
    t.same(p, { kind: 'needs_customer' }, 'no customer given or stored: nothing moves');
    const q = await ledger.outbox.prepare('acme', 'cus_a', clock.now());
    t.equal(q.kind === 'batch' && q.batch.timestamp, utc(2026, 3, 10) / 1000);
    t.equal(q.kind === 'batch' && q.batch.value, 5);
  });

  t.test('a paid period boundary with reservations in flight keeps them held', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 1, 31, 23, 59, 50));
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.reserve({ accountId: 'acme', requestId: 'edge', microCredits: cr(50), ttlMs: 60_000 });
    clock.set(utc(2026, 2, 1, 0, 0, 5));
    t.equal((await ledger.usage('acme')).reservedMicro, cr(50));
    await ledger.settle(settleInput('acme', 'edge', cr(40)));
    const u = await ledger.usage('acme');
    t.equal(u.reservedMicro, 0);
    t.equal(u.usedMicro, cr(40), 'settled in the period it finished in');
    t.equal(u.carryoverMicro, cr(200_000));
  });

  // Threshold alerts (ledger/alert-rules.ts, lib/alerts.lua): recorded by the debit, once per
  // account, period and threshold, with the same numbers on both backends.
  const DEFAULT_ALERTS: AlertRules = { percent: [50, 80, 100], remainingMicro: [] };
  const rec = (r: Partial<AlertRecord> & Pick<AlertRecord, 'token' | 'type' | 'threshold' | 'usedMicro' | 'at'>): AlertRecord => ({
    accountId: 'acme',
    thresholdType: 'percent',
    limitMicro: cr(2500),
    periodStart: utc(2026, 1, 1),
    periodEnd: utc(2026, 2, 1),
    createdAt: utc(2026, 1, 10),
    ...r,
  });

  t.test('alerts: a Free account driven to 50/80/100% records 3 threshold events and 1 exhausted, each once; a new period re-arms', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 1, 10), testPricing(), DEFAULT_ALERTS);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    await ledger.settle(settleInput('acme', 's1', cr(1249.999999)));
    t.same(await ledger.alerts.waiting('acme'), [], '1 µcr short of 50%: nothing');
    t.same(await ledger.alerts.pendingAccounts(false), []);
    t.same(await ledger.firedAlerts('acme'), { periodStart: null, alerts: [] }, 'nothing fired yet');
    t.same(await ledger.firedAlerts('nobody'), { periodStart: null, alerts: [] }, 'an unknown account: nothing');
    await ledger.settle(settleInput('acme', 's2', 1));
    t.same(await ledger.alerts.waiting('acme'), [rec({ token: 'p50', type: 'credits.threshold_crossed', threshold: 50, usedMicro: cr(1250), at: cr(1250) })]);
    t.same(await ledger.alerts.pendingAccounts(false), ['acme']);
    await ledger.settle(settleInput('acme', 's2', cr(999)));
    await ledger.settle(settleInput('acme', 's3', cr(10)));
    t.equal((await ledger.alerts.waiting('acme')).length, 1, 'a repeated settle and a debit below 80% record nothing');
    await ledger.settle(settleInput('acme', 's4', cr(1000)));
    await ledger.settle(settleInput('acme', 's5', cr(239.999999)));
    await ledger.settle(settleInput('acme', 's6', cr(500))); // capped at 2,500: the rest written off
    await ledger.settle(settleInput('acme', 's7', cr(5)));
    await ledger.settle(settleInput('acme', 'b1', 0, { byok: true, units: { inputTokens: 10 } }));
    const all = await ledger.alerts.waiting('acme');
    t.same(all, [
      rec({ token: 'p50', type: 'credits.threshold_crossed', threshold: 50, usedMicro: cr(1250), at: cr(1250) }),
      rec({ token: 'p80', type: 'credits.threshold_crossed', threshold: 80, usedMicro: cr(2260), at: cr(2000) }),
      rec({ token: 'p100', type: 'credits.threshold_crossed', threshold: 100, usedMicro: cr(2500), at: cr(2500) }),
      rec({ token: 'exhausted', type: 'credits.exhausted', threshold: 100, usedMicro: cr(2500), at: cr(2500) }),
    ]);
    t.equal((await ledger.usage('acme')).usedMicro, cr(2500));
    // The fired list (GET /admin/accounts/:id/alerts): the same four, waiting, then delivered.
    const fired = (state: 'waiting' | 'delivered', p50: 'waiting' | 'delivered' = state) => ({
      periodStart: utc(2026, 1, 1),
      alerts: [
        { token: 'p50', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 50, state: p50, firedAt: utc(2026, 1, 10), periodStart: utc(2026, 1, 1) },
        { token: 'p80', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 80, state, firedAt: utc(2026, 1, 10), periodStart: utc(2026, 1, 1) },
        { token: 'p100', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 100, state, firedAt: utc(2026, 1, 10), periodStart: utc(2026, 1, 1) },
        { token: 'exhausted', type: 'credits.exhausted', thresholdType: 'percent', threshold: 100, state, firedAt: utc(2026, 1, 10), periodStart: utc(2026, 1, 1) },
      ],
    });
    t.same(await ledger.firedAlerts('acme'), fired('waiting'), 'four fired, all waiting');

    // Delivered ones leave; the account leaves the pending index once nothing waits.
    t.equal(await ledger.alerts.delivered('acme', utc(2026, 1, 1), 'p50'), true);
    t.equal(await ledger.alerts.delivered('acme', utc(2026, 1, 1), 'p50'), false, 'delivered twice: the second finds nothing');
    await ledger.alerts.markClean('acme');
    t.same(await ledger.alerts.pendingAccounts(false), ['acme'], 'three still wait');
    t.same(await ledger.firedAlerts('acme'), fired('waiting', 'delivered'), 'p50 delivered, three waiting');
    for (const tk of ['p80', 'p100', 'exhausted']) await ledger.alerts.delivered('acme', utc(2026, 1, 1), tk);
    await ledger.alerts.markClean('acme');
    t.same(await ledger.alerts.pendingAccounts(false), []);
    t.same(await ledger.alerts.pendingAccounts(true), ['acme'], 'the sweep lists every account');
    t.same(await ledger.firedAlerts('acme'), fired('delivered'), 'all four delivered, still listed for the period');

    // February: every threshold is armed again.
    clock.set(utc(2026, 2, 3));
    t.same(await ledger.firedAlerts('acme'), { periodStart: null, alerts: [] }, 'January ended: nothing fired this period');
    await ledger.settle(settleInput('acme', 'f1', cr(2000)));
    t.same(await ledger.alerts.waiting('acme'), [
      rec({ token: 'p50', type: 'credits.threshold_crossed', threshold: 50, usedMicro: cr(2000), at: cr(1250), periodStart: utc(2026, 2, 1), periodEnd: utc(2026, 3, 1), createdAt: utc(2026, 2, 3) }),
      rec({ token: 'p80', type: 'credits.threshold_crossed', threshold: 80, usedMicro: cr(2000), at: cr(2000), periodStart: utc(2026, 2, 1), periodEnd: utc(2026, 3, 1), createdAt: utc(2026, 2, 3) }),
    ]);
    t.same((await ledger.firedAlerts('acme')).alerts.map((a) => [a.token, a.state, a.firedAt]), [['p50', 'waiting', utc(2026, 2, 3)], ['p80', 'waiting', utc(2026, 2, 3)]], 'February lists only its own');
    t.equal((await ledger.firedAlerts('acme')).periodStart, utc(2026, 2, 1));
  });

  t.test('alerts: a paid account records overage.started past its limit and spend_limit.reached at limit + spend limit', async (t) => {
    const { ledger } = await setup(t, utc(2026, 1, 10), testPricing(), DEFAULT_ALERTS);
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.updateAccount('acme', { overageCapMicro: cr(1000) });
    const pro = { limitMicro: cr(200_000) };
    await ledger.settle(settleInput('acme', 's1', cr(200_000)));
    t.same((await ledger.alerts.waiting('acme')).map((r) => [r.token, r.usedMicro]), [['p50', cr(200_000)], ['p80', cr(200_000)], ['p100', cr(200_000)]], 'one debit, three thresholds, in order');
    await ledger.settle(settleInput('acme', 's2', 1));
    await ledger.settle(settleInput('acme', 's3', cr(2000)));
    await ledger.settle(settleInput('acme', 's4', cr(1)));
    const all = await ledger.alerts.waiting('acme');
    t.same(all.slice(3), [
      rec({ ...pro, token: 'overage', type: 'overage.started', threshold: 100, usedMicro: cr(200_000) + 1, at: cr(200_000) + 1 }),
      rec({ ...pro, token: 'spend', type: 'spend_limit.reached', thresholdType: 'spendLimit', threshold: cr(1000), usedMicro: cr(201_000), at: cr(201_000) }),
    ]);
    t.equal(all.length, 5);
    await ledger.alerts.delivered('acme', utc(2026, 1, 1), 'spend');
    t.same((await ledger.firedAlerts('acme')).alerts.map((a) => [a.token, a.type, a.threshold, a.state]), [
      ['p50', 'credits.threshold_crossed', 50, 'waiting'],
      ['p80', 'credits.threshold_crossed', 80, 'waiting'],
      ['p100', 'credits.threshold_crossed', 100, 'waiting'],
      ['overage', 'overage.started', 100, 'waiting'],
      ['spend', 'spend_limit.reached', cr(1000), 'delivered'],
    ], 'a delivered spend alert keeps its threshold (the spend limit when it fired)');
  });

  t.test('alerts: an account’s own lists replace the config’s; remaining-credit levels; an expired floor is a debit too', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 1, 10), testPricing(), { percent: [50, 80, 100], remainingMicro: [cr(100)] });
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    const a = await ledger.updateAccount('acme', { alerts: { percent: [90] } });
    t.same(a.alerts, { percent: [90] });
    t.same((await ledger.getAccount('acme'))?.alerts, { percent: [90] });
    // A crashed request's floor (2,300 credits) is charged when its reservation expires, on
    // the read that finds it expired: 90% (2,250) is crossed there.
    await ledger.reserve({ accountId: 'acme', requestId: 'lost', microCredits: cr(2300), floorMicro: cr(2300), modality: 'tts', ttlMs: 1000 });
    clock.advance(1000);
    t.equal((await ledger.usage('acme')).usedMicro, cr(2300));
    const created = utc(2026, 1, 10) + 1000;
    t.same(await ledger.alerts.waiting('acme'), [rec({ token: 'p90', type: 'credits.threshold_crossed', threshold: 90, usedMicro: cr(2300), at: cr(2250), createdAt: created })]);
    t.same(await ledger.alerts.pendingAccounts(false), ['acme'], 'the read that charged it marked the account pending');
    // The config's remaining level still applies (the account replaced only the percents).
    await ledger.settle(settleInput('acme', 's1', cr(100)));
    const r100 = rec({ token: 'r100000000', type: 'credits.threshold_crossed', thresholdType: 'remainingCredits', threshold: cr(100), usedMicro: cr(2400), at: cr(2400), createdAt: created });
    t.same((await ledger.alerts.waiting('acme'))[1], r100);
    // Back to the config's lists: 50% and 80%, already passed, are recorded by the next debit.
    t.equal((await ledger.updateAccount('acme', { alerts: null })).alerts, undefined);
    clock.advance(1000);
    await ledger.settle(settleInput('acme', 's2', 1));
    t.same((await ledger.alerts.waiting('acme')).map((r) => [r.token, r.usedMicro]), [['p90', cr(2300)], ['r100000000', cr(2400)], ['p50', cr(2400) + 1], ['p80', cr(2400) + 1]]);

    // The reserve that finds a floor expired records it the same way.
    await ledger.ensureAccount({ id: 'beta', tier: 'free' });
    await ledger.reserve({ accountId: 'beta', requestId: 'lost', microCredits: cr(1300), floorMicro: cr(1300), modality: 'llm', ttlMs: 1000 });
    clock.advance(1000);
    t.same(await ledger.reserve({ accountId: 'beta', requestId: 'next', microCredits: cr(1), ttlMs: 1000 }), { ok: true });
    t.same((await ledger.alerts.waiting('beta')).map((r) => [r.token, r.usedMicro, r.accountId]), [['p50', cr(1300), 'beta']]);
    t.same(await ledger.alerts.pendingAccounts(false), ['acme', 'beta']);
  });

  t.test('alerts: following a Stripe period that starts hours after ours keeps what fired; a real new period re-arms', async (t) => {
    const { ledger, clock } = await setup(t, utc(2026, 1, 10), testPricing(), DEFAULT_ALERTS);
    await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
    await ledger.settle(settleInput('acme', 's1', cr(170_000)));
    t.same((await ledger.alerts.waiting('acme')).map((r) => r.token), ['p50', 'p80']);
    // The subscription's period begins 6 hours after ours: one period, counters kept.
    await ledger.updateAccount('acme', { period: { start: utc(2026, 1, 1, 6), end: utc(2026, 2, 1, 6) } });
    t.equal((await ledger.usage('acme')).period.start, utc(2026, 1, 1, 6));
    await ledger.settle(settleInput('acme', 's2', cr(1)));
    t.same((await ledger.alerts.waiting('acme')).map((r) => r.token), ['p50', 'p80'], 'nothing recorded twice');
    // The fired list: one period; each alert keeps the period start of its own event (its webhook id).
    await ledger.settle(settleInput('acme', 's3', cr(29_999))); // 200,000: 100%, under the moved period
    await ledger.alerts.delivered('acme', utc(2026, 1, 1), 'p50');
    t.same((await ledger.firedAlerts('acme')), {
      periodStart: utc(2026, 1, 1, 6),
      alerts: [
        { token: 'p50', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 50, state: 'delivered', firedAt: utc(2026, 1, 10), periodStart: utc(2026, 1, 1) },
        { token: 'p80', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 80, state: 'waiting', firedAt: utc(2026, 1, 10), periodStart: utc(2026, 1, 1) },
        { token: 'p100', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 100, state: 'waiting', firedAt: utc(2026, 1, 10), periodStart: utc(2026, 1, 1, 6) },
      ],
    });
    clock.set(utc(2026, 2, 2));
    await ledger.settle(settleInput('acme', 'f1', cr(150_000))); // past 50% of 200,000 (January used it all: nothing carried over)
    t.same((await ledger.alerts.waiting('acme')).map((r) => [r.token, r.periodStart]), [['p80', utc(2026, 1, 1)], ['p100', utc(2026, 1, 1, 6)], ['p50', utc(2026, 2, 1, 6)]]);
  });

  t.test('alerts: off without rules; the alert lease is one holder at a time', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    await ledger.settle(settleInput('acme', 's1', cr(2500)));
    t.same(await ledger.alerts.waiting('acme'), []);
    t.same(await ledger.alerts.pendingAccounts(false), []);
    t.equal(await ledger.alerts.lease('acme', 'one', 10_000), true);
    t.equal(await ledger.alerts.lease('acme', 'two', 10_000), false);
    await ledger.alerts.release('acme', 'two');
    t.equal(await ledger.alerts.lease('acme', 'two', 10_000), false, 'only the holder releases it');
    await ledger.alerts.release('acme', 'one');
    t.equal(await ledger.alerts.lease('acme', 'two', 10_000), true);
  });

  t.test('sessions: cap 2 refuses the third (open=2); a close frees a slot; a lapsed lease frees one; renewals keep them', async (t) => {
    const { ledger, clock } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    const lease = 30_000;
    t.same(await ledger.openSession('acme', 's1', 2, lease), { ok: true, open: 1 });
    t.same(await ledger.openSession('acme', 's2', 2, lease), { ok: true, open: 2 });
    t.same(await ledger.openSession('acme', 's3', 2, lease), { ok: false, open: 2 }, 'the third is refused');
    t.same(await ledger.openSession('acme', 's1', 2, lease), { ok: true, open: 2 }, 'an open id is renewed, not counted twice');
    t.same(await ledger.openSession('other', 'o1', 2, lease), { ok: true, open: 1 }, 'another account has its own slots');
    await ledger.closeSession('acme', 's1');
    await ledger.closeSession('acme', 'never-opened');
    t.same(await ledger.openSession('acme', 's3', 2, lease), { ok: true, open: 2 }, 'a closed session frees its slot');

    // s2 renewed 20 s in lives to 50 s; s3 (opened at 0) lapses at 30 s.
    clock.advance(20_000);
    await ledger.renewSessions('acme', ['s2'], lease);
    clock.advance(10_000);
    t.same(await ledger.openSession('acme', 's4', 2, lease), { ok: true, open: 2 }, 'the lapsed lease (s3) freed a slot');
    t.same(await ledger.openSession('acme', 's5', 2, lease), { ok: false, open: 2 }, 'the renewed one (s2) still counts');
    clock.advance(lease);
    t.same(await ledger.openSession('acme', 's5', 2, lease), { ok: true, open: 1 }, 'every lease lapsed: only the new one');
    await ledger.closeSession('acme', 's5');
    t.same(await ledger.openSession('acme', 'z', 0, lease), { ok: false, open: 0 }, 'cap 0 admits nothing');
  });

  t.test('sessions: 10 concurrent opens against cap 3 admit exactly 3', async (t) => {
    const { ledger } = await setup(t);
    await ledger.ensureAccount({ id: 'acme', tier: 'free' });
    const r = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.openSession('acme', `c${i}`, 3, 30_000)));
    t.equal(r.filter((x) => x.ok).length, 3);
    t.same(r.filter((x) => !x.ok).map((x) => x.open), [3, 3, 3, 3, 3, 3, 3]);
  });
}
