// The embedded in-memory ledger: the Redis ledger's semantics in one process (the default without Redis).
//
// Every operation runs synchronously between awaits, so each is atomic, like a Lua script.

import type { Logger } from 'pino';
import { MICRO_PER_CREDIT, type Modality, type Pricing, type TierId } from '../pricing/types.js';
import {
  DEFAULT_IDEMPOTENCY_TTL_MS,
  HISTORY_LENGTH,
  STAMP_MARGIN_MS,
  STRIPE_WINDOW_MS,
  applySettle,
  batchIdentifier,
  chargeable,
  hasWholeOverage,
  limitOf,
  newState,
  reserveVerdict,
  rollover,
  setPeriod,
  snapshot,
  takeBatch,
  type PeriodState,
  type TierParams,
} from './account-state.js';
import { createMemoryAuditLog } from './audit-log.js';
import { alertLevels, byRecordOrder, crossed, effectiveRules, samePeriod, type AlertRecord, type AlertRules } from './alert-rules.js';
import { firedList, type FiringMark } from './alert-fired.js';
import { DAY_MS, DEFAULT_HISTORY, addToBucket, dayId, hourId, parseBucket, type BucketCharge, type HistoryOptions, type Receipt } from './usage-history.js';
import { createLedgerError } from './errors.js';
import {
  checkAccountId,
  checkPatch,
  checkReserve,
  checkSettle,
  checkTier,
  keyIdOf,
  keyRefKind,
  normalizeKeyHash,
  tierTable,
} from './inputs.js';
import type {
  Account,
  AccountAlerts,
  AlertOutbox,
  ApiKeyInfo,
  Clock,
  KeyOwner,
  Ledger,
  OverageBatch,
  OverageOutbox,
  PeriodSummary,
  PrepareResult,
  ReserveResult,
  SettleResult,
} from './types.js';

export interface MemoryLedgerOptions {
  pricing: Pricing;
  clock: Clock;
  logger: Logger;
  /** How long a settled request id is remembered; default 1 h. */
  idempotencyTtlMs?: number;
  /** Usage history retention and receipts kept per account (ledger/usage-history.ts). */
  history?: HistoryOptions;
  /** Threshold alerts recorded at debit time (config `alerts`); absent: none are recorded. */
  alerts?: AlertRules;
}

export interface MemoryLedger extends Ledger {
  readonly kind: 'memory';
  readonly outbox: OverageOutbox;
  readonly alerts: AlertOutbox;
  history(accountId: string): Promise<PeriodSummary[]>;
}

interface Entry {
  account: Account;
  st: PeriodState;
  /** Open reservations: requestId -> held µcr, expiry, and the floor charged if it expires. */
  resv: Map<string, { amount: number; expires: number; floor: number; modality: Modality }>;
  /**
   * Idempotency markers, oldest first: R(eserved), S(ettled), or X: its reservation expired and
   * was charged `charged` (a late settle adds only what it cost beyond).
   */
  markers: Map<string, { kind: 'R' | 'S' | 'X'; expires: number; charged?: number }>;
  history: PeriodSummary[];
  keys: Set<string>;
  secrets: Map<string, string>;
  outbox: OverageBatch | null;
  lease: { owner: string; expires: number } | null;
  /** Usage history buckets by id (ledger/usage-history.ts), each with its expiry (ms). */
  hours: Map<string, { fields: Map<string, number>; expires: number }>;
  days: Map<string, { fields: Map<string, number>; expires: number }>;
  /** Receipts, oldest first, capped. */
  receipts: Receipt[];
  /** When expired buckets were last dropped (ms). */
  swept: number;
  /** lib/alerts.lua's key: the tokens the period `ps` recorded, and the events waiting (by `ps:token`). */
  alerts: { ps: number; fired: Set<string>; waiting: Map<string, AlertRecord>; marks: Map<string, FiringMark> };
  alertLease: { owner: string; expires: number } | null;
}

interface KeyRecord {
  accountId: string;
  createdAt: number;
  label?: string;
  revokedAt?: number;
}

export function createMemoryLedger(opts: MemoryLedgerOptions): MemoryLedger {
  const { clock } = opts;
  const logger = opts.logger.child({ component: 'memory-ledger' });
  const idemTtl = opts.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const tiers = tierTable(opts.pricing);
  const hist = opts.history ?? DEFAULT_HISTORY;
  let receiptSeq = 0;
  const accounts = new Map<string, Entry>();
  const keys = new Map<string, KeyRecord>();
  const keyIds = new Map<string, string>();
  const byCustomer = new Map<string, string>();
  /** Open realtime sessions per account: sessionId -> lease expiry (the Redis ZSET). */
  const sessions = new Map<string, Map<string, number>>();
  /** session-open.lua's purge: the sessions of `accountId` whose lease has not lapsed. */
  function liveSessions(accountId: string, now: number): Map<string, number> {
    checkAccountId(accountId);
    let m = sessions.get(accountId);
    if (!m) sessions.set(accountId, (m = new Map()));
    for (const [id, expiry] of m) if (expiry <= now) m.delete(id);
    return m;
  }
  const pending = new Set<string>();
  const alertsPending = new Set<string>();
  const listeners = new Set<(keyHash: string) => void>();

  const tierOf = (e: Entry): TierParams => tiers[e.account.tier] ?? tiers.free;
  /** Nothing bounds the account's spending: no hard cap, no spend limit (ReserveResult `open`). */
  const isOpen = (e: Entry): boolean => !tierOf(e).hardCap && (e.account.overageCapMicro ?? null) === null;
  const OPEN: ReserveResult = Object.freeze({ ok: true, open: true });
  const copyAlerts = (x: AccountAlerts): AccountAlerts => ({
    ...(x.percent ? { percent: [...x.percent] } : {}),
    ...(x.remainingMicro ? { remainingMicro: [...x.remainingMicro] } : {}),
  });
  const copy = (a: Account): Account => (a.alerts ? { ...a, alerts: copyAlerts(a.alerts) } : { ...a });

  function entry(id: string): Entry | undefined {
    checkAccountId(id);
    return accounts.get(id);
  }
  function required(id: string): Entry {
    const e = entry(id);
    if (!e) throw createLedgerError('unknown_account', `no account ${id}`);
    return e;
  }

  /** After a debit (lib/alerts.lua's alert_check): records the levels `used` reached that the period has not. */
  function alertCheck(e: Entry, now: number): void {
    if (!opts.alerts) return;
    const tier = tierOf(e);
    const limit = limitOf(e.st, tier);
    const levels = alertLevels(effectiveRules(opts.alerts, e.account.alerts), limit, e.account.overageCapMicro ?? null, tier.hardCap);
    const a = e.alerts;
    if (!samePeriod(a.ps, e.st.ps)) a.fired = new Set();
    a.ps = e.st.ps;
    for (const l of crossed(levels, e.st.used, a.fired)) {
      a.fired.add(l.token);
      a.waiting.set(`${e.st.ps}:${l.token}`, {
        accountId: e.account.id,
        token: l.token,
        type: l.type,
        thresholdType: l.thresholdType,
        threshold: l.threshold,
        usedMicro: e.st.used,
        limitMicro: limit,
        periodStart: e.st.ps,
        periodEnd: e.st.pe,
        createdAt: now,
        at: l.at,
      });
      a.marks.set(l.token, { firedAt: now, threshold: l.threshold, periodStart: e.st.ps, periodEnd: e.st.pe });
      alertsPending.add(e.account.id);
    }
  }

  /** What every script does first: lazy rollover, then release expired reservations. */
  function catchUp(e: Entry, now: number): void {
    rollover(e.st, now, tierOf(e), (p) => closePeriod(e, p));
    const used0 = e.st.used;
    // Expired reservations (lib/state.lua's purge_reservations): the hold is released and the
    // floor charged, as its settle would have been; the marker says what was charged.
    for (const [rid, r] of e.resv) {
      if (r.expires <= now) {
        e.resv.delete(rid);
        e.st.held = Math.max(0, e.st.held - r.amount);
        if (r.floor > 0) {
          if (applySettle(e.st, tierOf(e), { modality: r.modality, byok: false, microCredits: r.floor, units: {} })) pending.add(e.account.id);
          setMarker(e, rid, 'X', now + idemTtl, r.floor);
          charge(e, now, { modality: r.modality, model: null, micro: r.floor, requests: 1, byok: false, units: {} });
          receipt(e, now, { requestId: rid, provider: null, model: null, modality: r.modality, units: {}, micro: r.floor, outcome: 'expired', byok: false, keyId: null });
        }
      }
    }
    // As the scripts: a purge that charged floors is a debit.
    if (e.st.used !== used0) alertCheck(e, now);
    for (const [rid, m] of e.markers) {
      if (m.expires > now) break;
      e.markers.delete(rid);
    }
  }
  /** The usage history: what the ledger charged, in the same step (lib/usage-history.lua). */
  function charge(e: Entry, now: number, c: BucketCharge): void {
    if (hist.enabled === false) return;
    const put = (m: Entry['hours'], id: string, ttl: number) => {
      let b = m.get(id);
      if (!b || b.expires <= now) m.set(id, (b = { fields: new Map(), expires: now + ttl }));
      addToBucket(b.fields, c);
    };
    put(e.hours, hourId(now), hist.hourlyRetentionDays * DAY_MS);
    put(e.days, dayId(now, e.account.timeZone ?? 'UTC'), hist.dailyRetentionDays * DAY_MS);
    // Expired buckets go at most once an hour per account.
    if (now - e.swept >= 3_600_000) {
      e.swept = now;
      for (const m of [e.hours, e.days]) for (const [id, b] of m) if (b.expires <= now) m.delete(id);
    }
  }
  function receipt(e: Entry, now: number, r: Omit<Receipt, 'id' | 'time'>): void {
    if (hist.enabled === false || hist.receiptsPerAccount <= 0) return;
    e.receipts.push({ id: `${now}-${receiptSeq++}`, time: now, ...r });
    if (e.receipts.length > hist.receiptsPerAccount) e.receipts.splice(0, e.receipts.length - hist.receiptsPerAccount);
  }

  function closePeriod(e: Entry, p: PeriodSummary): void {
    e.history.unshift(p);
    if (e.history.length > HISTORY_LENGTH) e.history.length = HISTORY_LENGTH;
  }
  function marker(e: Entry, rid: string, now: number): 'R' | 'S' | 'X' | null {
    const m = e.markers.get(rid);
    return m && m.expires > now ? m.kind : null;
  }
  function setMarker(e: Entry, rid: string, kind: 'R' | 'S' | 'X', expires: number, charged?: number): void {
    e.markers.delete(rid); // keep the map ordered by insertion for the sweep
    e.markers.set(rid, charged === undefined ? { kind, expires } : { kind, expires, charged });
  }
  function keyInfo(hash: string, k: KeyRecord): ApiKeyInfo {
    const info: ApiKeyInfo = { id: keyIdOf(hash), accountId: k.accountId, createdAt: k.createdAt };
    if (k.revokedAt !== undefined) info.revokedAt = k.revokedAt;
    if (k.label !== undefined) info.label = k.label;
    return info;
  }

  function notifyRevoked(hash: string): void {
    for (const l of listeners) {
      queueMicrotask(() => {
        try {
          l(hash);
        } catch (err) {
          logger.error({ err }, 'key revocation listener failed');
        }
      });
    }
  }

  const outbox: OverageOutbox = {
    async pendingAccounts(full) {
      return full ? [...accounts.keys()].sort() : [...pending].sort();
    },
    async lease(accountId, owner, ttlMs) {
      const e = required(accountId);
      const now = clock.now();
      if (e.lease && e.lease.expires > now) return false;
      e.lease = { owner, expires: now + ttlMs };
      return true;
    },
    async release(accountId, owner) {
      const e = required(accountId);
      if (e.lease?.owner === owner) e.lease = null;
    },
    async prepare(accountId, customer, now): Promise<PrepareResult> {
      const e = required(accountId);
      const minStamp = now - STRIPE_WINDOW_MS + STAMP_MARGIN_MS;
      if (e.outbox) {
        if (e.outbox.timestamp * 1000 < minStamp) e.outbox.timestamp = Math.floor(now / 1000);
        return { kind: 'batch', batch: { ...e.outbox } };
      }
      rollover(e.st, now, tierOf(e), (p) => closePeriod(e, p));
      if (!hasWholeOverage(e.st)) return { kind: 'none', remainderMicro: e.st.ovp + e.st.ovc };
      const cus = customer ?? e.account.stripeCustomerId;
      if (!cus) return { kind: 'needs_customer' };
      const b = takeBatch(e.st, now, minStamp);
      if (!b) return { kind: 'none', remainderMicro: e.st.ovp + e.st.ovc };
      e.outbox = {
        accountId,
        identifier: batchIdentifier(accountId, b.periodStart, b.seq),
        stripeCustomerId: cus,
        value: b.value,
        timestamp: b.timestamp,
        periodStart: b.periodStart,
      };
      return { kind: 'batch', batch: { ...e.outbox } };
    },
    async commit(accountId, identifier) {
      const e = required(accountId);
      if (e.outbox?.identifier !== identifier) return false;
      e.st.ovr += e.outbox.value * MICRO_PER_CREDIT;
      e.outbox = null;
      return true;
    },
    async markClean(accountId) {
      const e = required(accountId);
      if (!e.outbox && !hasWholeOverage(e.st)) pending.delete(accountId);
    },
    async reportedMicro(accountId) {
      return required(accountId).st.ovr;
    },
  };

  const alerts: AlertOutbox = {
    async pendingAccounts(full) {
      return full ? [...accounts.keys()].sort() : [...alertsPending].sort();
    },
    async lease(accountId, owner, ttlMs) {
      const e = required(accountId);
      const now = clock.now();
      if (e.alertLease && e.alertLease.expires > now) return false;
      e.alertLease = { owner, expires: now + ttlMs };
      return true;
    },
    async release(accountId, owner) {
      const e = required(accountId);
      if (e.alertLease?.owner === owner) e.alertLease = null;
    },
    async waiting(accountId) {
      return [...required(accountId).alerts.waiting.values()].map((r) => ({ ...r })).sort(byRecordOrder);
    },
    async delivered(accountId, periodStart, token) {
      return required(accountId).alerts.waiting.delete(`${periodStart}:${token}`);
    },
    async markClean(accountId) {
      if (required(accountId).alerts.waiting.size === 0) alertsPending.delete(accountId);
    },
  };

  const ledger: MemoryLedger = {
    kind: 'memory',
    outbox,
    alerts,
    audit: createMemoryAuditLog(clock),

    async firedAlerts(accountId) {
      const a = entry(accountId)?.alerts;
      if (!a || a.fired.size === 0) return { periodStart: null, alerts: [] };
      return firedList({ firedPs: a.ps, tokens: a.fired, waiting: [...a.waiting.values()], marks: (tk) => a.marks.get(tk) }, clock.now());
    },

    async ensureAccount(input) {
      checkAccountId(input.id);
      checkTier(input.tier);
      let e = accounts.get(input.id);
      if (!e) {
        const now = clock.now();
        const account: Account = { id: input.id, tier: input.tier, status: 'active', createdAt: now, overageCapMicro: null };
        if (input.stripeCustomerId) {
          account.stripeCustomerId = input.stripeCustomerId;
          byCustomer.set(input.stripeCustomerId, input.id);
        }
        e = {
          account,
          st: newState(now),
          resv: new Map(),
          markers: new Map(),
          history: [],
          keys: new Set(),
          secrets: new Map(),
          outbox: null,
          lease: null,
          hours: new Map(),
          days: new Map(),
          receipts: [],
          swept: now,
          alerts: { ps: Number.NEGATIVE_INFINITY, fired: new Set(), waiting: new Map(), marks: new Map() },
          alertLease: null,
        };
        accounts.set(input.id, e);
      }
      return copy(e.account);
    },

    async getAccount(id) {
      const e = entry(id);
      return e ? copy(e.account) : null;
    },

    async listAccounts() {
      return [...accounts.values()].map((e) => copy(e.account)).sort((a, b) => a.id.localeCompare(b.id));
    },

    async updateAccount(id, patch) {
      checkPatch(patch);
      const e = required(id);
      const a = e.account;
      // The period first, so a period closed by it is closed under the tier it ran on.
      if (patch.period) setPeriod(e.st, clock.now(), patch.period.start, patch.period.end, tierOf(e), (p) => closePeriod(e, p));
      if (patch.tier !== undefined) a.tier = patch.tier as TierId;
      if (patch.status !== undefined) a.status = patch.status;
      if (patch.stripeCustomerId !== undefined && patch.stripeCustomerId !== a.stripeCustomerId) {
        if (a.stripeCustomerId && byCustomer.get(a.stripeCustomerId) === id) byCustomer.delete(a.stripeCustomerId);
        if (patch.stripeCustomerId) {
          a.stripeCustomerId = patch.stripeCustomerId;
          byCustomer.set(patch.stripeCustomerId, id);
        } else delete a.stripeCustomerId;
      }
      if (patch.stripeSubscriptionId !== undefined) {
        if (patch.stripeSubscriptionId) a.stripeSubscriptionId = patch.stripeSubscriptionId;
        else delete a.stripeSubscriptionId;
      }
      if (patch.overageCapMicro !== undefined) a.overageCapMicro = patch.overageCapMicro;
      if (patch.origin !== undefined) {
        if (patch.origin) a.origin = patch.origin;
        else delete a.origin;
      }
      if (patch.deletedAt !== undefined) {
        if (patch.deletedAt === null) delete a.deletedAt;
        else a.deletedAt = patch.deletedAt;
      }
      if (patch.timeZone !== undefined) {
        if (patch.timeZone) a.timeZone = patch.timeZone;
        else delete a.timeZone;
      }
      if (patch.alerts !== undefined) {
        if (patch.alerts) a.alerts = copyAlerts(patch.alerts);
        else delete a.alerts;
      }
      if (patch.suspended !== undefined) {
        if (patch.suspended) a.suspended = true;
        else delete a.suspended;
        // As on a revocation: key caches forget the account's keys and read its state again.
        for (const h of e.keys) notifyRevoked(h);
      }
      return copy(a);
    },

    async findAccountByStripeCustomer(customerId) {
      const id = byCustomer.get(customerId);
      const e = id ? accounts.get(id) : undefined;
      return e && e.account.stripeCustomerId === customerId ? copy(e.account) : null;
    },

    async addKey(accountId, keyHash, label) {
      const hash = normalizeKeyHash(keyHash);
      const e = required(accountId);
      const existing = keys.get(hash);
      if (existing) {
        if (existing.accountId !== accountId) throw createLedgerError('key_conflict', `key ${keyIdOf(hash)} belongs to another account`);
        return keyInfo(hash, existing);
      }
      const rec: KeyRecord = { accountId, createdAt: clock.now() };
      if (label !== undefined) rec.label = label;
      keys.set(hash, rec);
      keyIds.set(keyIdOf(hash), hash);
      e.keys.add(hash);
      return keyInfo(hash, rec);
    },

    async revokeKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return false;
      const ref = idOrHash.toLowerCase();
      const hash = kind === 'hash' ? ref : keyIds.get(ref);
      const rec = hash ? keys.get(hash) : undefined;
      if (!hash || !rec || rec.revokedAt !== undefined) return false;
      rec.revokedAt = clock.now();
      notifyRevoked(hash);
      return true;
    },

    async listKeys(accountId) {
      const e = entry(accountId);
      if (!e) return [];
      return [...e.keys]
        .map((h) => keyInfo(h, keys.get(h)!))
        .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    async getKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return null;
      const ref = idOrHash.toLowerCase();
      const hash = kind === 'hash' ? ref : keyIds.get(ref);
      const rec = hash ? keys.get(hash) : undefined;
      return hash && rec ? keyInfo(hash, rec) : null;
    },

    async resolveKey(keyHash) {
      const hash = String(keyHash).toLowerCase();
      const rec = keys.get(hash);
      if (!rec || rec.revokedAt !== undefined) return null;
      const a = accounts.get(rec.accountId)?.account;
      const owner: KeyOwner = { accountId: rec.accountId, keyId: keyIdOf(hash), tier: a?.tier ?? 'free' };
      if (a?.suspended) owner.suspended = true;
      return owner;
    },

    onKeyRevoked(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async reserve(input): Promise<ReserveResult> {
      checkReserve(input);
      const e = accounts.get(input.accountId);
      if (!e) return { ok: false, reason: 'unknown_account', usedMicro: 0, limitMicro: 0 };
      const now = clock.now();
      catchUp(e, now);
      const tier = tierOf(e);
      if (marker(e, input.requestId, now)) return isOpen(e) ? OPEN : { ok: true };
      const verdict = reserveVerdict(e.st, tier, input.microCredits, e.account.overageCapMicro ?? null);
      if (verdict !== 'ok') {
        return { ok: false, reason: verdict, usedMicro: e.st.used, limitMicro: tier.includedMicro + e.st.cs };
      }
      setMarker(e, input.requestId, 'R', now + Math.max(idemTtl, input.ttlMs + 60_000));
      if (input.microCredits > 0) {
        const floor = input.floorMicro ?? 0;
        e.resv.set(input.requestId, { amount: input.microCredits, expires: now + input.ttlMs, floor, modality: input.modality ?? 'llm' });
        e.st.held += input.microCredits;
      }
      return isOpen(e) ? OPEN : { ok: true };
    },

    async settle(input): Promise<SettleResult> {
      checkSettle(input);
      const e = required(input.accountId);
      const now = clock.now();
      catchUp(e, now);
      const m = marker(e, input.requestId, now);
      if (m === 'S') return { applied: false };
      // Expired and charged its floor: now only what it cost beyond, counted once (settle.lua).
      const prior = m === 'X' ? (e.markers.get(input.requestId)!.charged ?? 0) : undefined;
      const r = e.resv.get(input.requestId);
      if (r) {
        e.resv.delete(input.requestId);
        e.st.held = Math.max(0, e.st.held - r.amount);
      }
      setMarker(e, input.requestId, 'S', now + idemTtl);
      const amount = input.byok ? 0 : prior === undefined ? input.microCredits : Math.max(0, input.microCredits - prior);
      const charged = chargeable(e.st, tierOf(e), e.account.overageCapMicro ?? null, amount);
      const accrued = applySettle(e.st, tierOf(e), { modality: input.modality, byok: input.byok, microCredits: charged, units: input.units ?? {} }, prior === undefined && input.requests !== 0);
      if (accrued) pending.add(input.accountId);
      e.st.lr = now;
      charge(e, now, { modality: input.modality, model: input.model, micro: charged, requests: prior === undefined && input.requests !== 0 ? 1 : 0, byok: input.byok, units: input.units ?? {} });
      if (input.receipt !== false) {
        const s = input.receipt;
        receipt(e, now, {
          requestId: s ? s.requestId : input.requestId,
          provider: input.provider,
          model: input.model ?? null,
          modality: input.modality,
          units: { ...(s ? s.units : input.units) },
          micro: (s ? s.priorMicro : 0) + (prior ?? 0) + charged,
          outcome: input.outcome,
          byok: input.byok,
          keyId: input.keyId ?? null,
        });
      }
      if (!input.byok) alertCheck(e, now);
      return charged < amount ? { applied: true, writtenOffMicro: amount - charged } : { applied: true };
    },

    async usage(accountId) {
      const e = required(accountId);
      catchUp(e, clock.now());
      return snapshot(accountId, tierOf(e), e.st);
    },

    async history(accountId) {
      return (entry(accountId)?.history ?? []).map((p) => ({ ...p }));
    },

    async historyBuckets(accountId, kind, ids) {
      const e = entry(accountId);
      const now = clock.now();
      return ids.map((id) => {
        const b = e ? (kind === 'hour' ? e.hours : e.days).get(id) : undefined;
        return b && b.expires > now ? parseBucket(Object.fromEntries(b.fields)) : null;
      });
    },

    async receipts(accountId, q) {
      const all = entry(accountId)?.receipts ?? [];
      let end = all.length;
      if (q.cursor) {
        const i = all.findIndex((r) => r.id === q.cursor);
        end = i >= 0 ? i : 0;
      }
      const page = all.slice(Math.max(0, end - q.limit), end).reverse().map((r) => ({ ...r, units: { ...r.units } }));
      return { receipts: page, next: end - q.limit > 0 && page.length > 0 ? page[page.length - 1]!.id : null };
    },

    async openSession(accountId, sessionId, cap, leaseMs) {
      const now = clock.now();
      const m = liveSessions(accountId, now);
      if (!m.has(sessionId) && m.size >= cap) return { ok: false, open: m.size };
      m.set(sessionId, now + leaseMs);
      return { ok: true, open: m.size };
    },
    async renewSessions(accountId, sessionIds, leaseMs) {
      const now = clock.now();
      const m = liveSessions(accountId, now);
      for (const id of sessionIds) m.set(id, now + leaseMs);
    },
    async closeSession(accountId, sessionId) {
      checkAccountId(accountId);
      const m = sessions.get(accountId);
      m?.delete(sessionId);
      if (m?.size === 0) sessions.delete(accountId);
    },

    async putSecret(accountId, name, sealed) {
      required(accountId).secrets.set(name, sealed);
    },
    async getSecret(accountId, name) {
      return entry(accountId)?.secrets.get(name) ?? null;
    },
    async deleteSecret(accountId, name) {
      return entry(accountId)?.secrets.delete(name) ?? false;
    },
    async listSecrets(accountId) {
      return [...(entry(accountId)?.secrets.keys() ?? [])].sort();
    },

    async ping() {
      return true;
    },
    async close() {
      listeners.clear();
    },
  };
  return ledger;
}
