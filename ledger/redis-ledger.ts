// The Redis ledger: one Lua script per metering call (reserve, settle), keys hash-tagged per account.
//
// Key layout (prefix `tg` by default; every key of one account shares the tag {acct:ID}, so
// each script touches one Redis Cluster slot):
//   tg:{acct:ID}:acct          HASH  id, tier, status, cus, sub, cap, createdAt, org (origin),
//                                    susp (suspended: 1), del (deleted at, ms)
//   tg:{acct:ID}:audit         STREAM the account's audit entries (ledger/audit-log.ts)
//   tg:{acct:ID}:state         HASH  period, counters, carryover, overage (see PeriodState)
//   tg:{acct:ID}:resv          ZSET  open reservations: requestId -> expiry ms
//   tg:{acct:ID}:resv:amt      HASH  open reservations: requestId -> µcr held
//   tg:{acct:ID}:mk:N          HASH  idempotency markers written in window N (N = now ÷ the
//                                    idempotency ttl): requestId -> R(eserved) / S(ettled);
//                                    unlinked by the first batch of window N + 2, else expires
//                                    at its end
//   tg:{acct:ID}:hist          LIST  closed periods, newest first (bounded)
//   tg:{acct:ID}:outbox        HASH  the overage batch in flight to Stripe
//   tg:{acct:ID}:lease         STRING the flusher holding this account
//   tg:{acct:ID}:keys          SET   the account's key hashes
//   tg:{acct:ID}:secrets       HASH  sealed BYOK keys
//   tg:accounts                SET   every account id
//   tg:overage:pending         SET   accounts that may have overage to report
//   tg:key:HASH                HASH  accountId, createdAt, label, revokedAt
//   tg:keyid:ID                STRING key id -> hash
//   tg:stripe:CUS              STRING Stripe customer -> account id
//   tg:audit                   STREAM every audit entry (capped)
//   channel tg:revoked         revoked key hashes
//   channel tg:account         ids of accounts whose tier or spend limit changed

import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Modality, Pricing, TierId } from '../pricing/types.js';
import {
  DEFAULT_IDEMPOTENCY_TTL_MS,
  STAMP_MARGIN_MS,
  STRIPE_WINDOW_MS,
  UNIT_FIELDS,
  newState,
  snapshot,
  type PeriodState,
  type RawBucket,
  type TierParams,
} from './account-state.js';
import { createRedisAuditLog } from './audit-log.js';
import { createLedgerError, LedgerError, toLedgerError } from './errors.js';
import { createEpochGuard, type EpochGuard } from './epoch.js';
import { openJournal, type Journal } from './journal.js';
import {
  checkAccountId,
  checkPatch,
  checkReserve,
  checkSettle,
  checkTier,
  encodeTierTable,
  keyIdOf,
  keyRefKind,
  normalizeKeyHash,
  tierTable,
} from './inputs.js';
import { defineScripts, directScript, loadScripts, runScript, type ScriptName } from './script-loader.js';
import type {
  Account,
  AccountPatch,
  AccountStatus,
  ApiKeyInfo,
  Clock,
  KeyOwner,
  Ledger,
  OverageOutbox,
  PeriodSummary,
  PrepareResult,
  ReserveInput,
  ReserveResult,
  SettleInput,
  SettleResult,
  UsageSnapshot,
  UsageUnits,
} from './types.js';

export interface RedisLedgerOptions {
  /** Used when `redis` is not given. */
  url?: string;
  /** A client to use (not closed by close()); a duplicate of it subscribes to revocations. */
  redis?: Redis;
  /** Prefix of every key and channel; default `tg`. */
  keyPrefix?: string;
  pricing: Pricing;
  clock: Clock;
  logger: Logger;
  /**
   * How long a request id is remembered at least (settling twice applies once; markers live
   * between this and twice this); default 1 h. Reservation ttls may be up to this less 60 s.
   */
  idempotencyTtlMs?: number;
  /** Per-command timeout: a hung Redis makes calls reject, not wait; default 1,000 ms. */
  commandTimeoutMs?: number;
  /** Connect timeout; default 1,000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long a settle may wait for the next reserve batch to ride along with, in ms; default
   * 1. Settles are off every request's path (the client has its answer), so under load they
   * join the next turn's reserves in one Redis write instead of a write of their own; 0 sends
   * them at the end of their own turn.
   */
  settleDelayMs?: number;
  /**
   * The same for the settles of an account admitted locally (a paid tier with no spend limit),
   * in ms; default 5. Such an account holds nothing in Redis that a settle would release, and
   * no reserve can refuse it, so its settles only record usage: waiting longer gathers more of
   * them into one script call (with 2 workers at 32 connections in the bench, 1 ms -> 5 ms
   * measured +3% throughput). Its usage reads lag by up to this much.
   */
  openSettleDelayMs?: number;
  /**
   * How long an account's terms (tier, spend limit) are trusted for local admission without a
   * change message, in ms; default 10,000. 0: every reserve goes to Redis.
   */
  termsTtlMs?: number;
  /**
   * Where settles that cannot reach Redis wait to be replayed (ledger/journal.ts); none: such a
   * settle rejects with ledger_unavailable, as before.
   */
  journal?: { dir: string; maxBytes: number };
  /**
   * Check the ledger's epoch (ledger/epoch.ts) at start, on every reconnect and every `checkMs`
   * (default 5,000): a Redis that came back empty makes every call refuse (503) until an
   * operator adopts it. `file`: where the epoch is remembered across restarts.
   */
  epoch?: { checkMs?: number; file?: string };
}

/** Entries per script call at most: bounds how long one call holds Redis (single-threaded). */
const MAX_BATCH = 128;
/** Local admission stops while a ledger script call has gone this long without any answering (ms). */
const STALL_MS = 250;
/** A request's idempotency marker outlives its reservation by at least this. */
export const MARKER_MARGIN_MS = 60_000;

export interface RedisLedger extends Ledger {
  readonly kind: 'redis';
  /** The flusher's view (see createFlusher). */
  readonly outbox: OverageOutbox;
  /** Closed periods, newest first (bounded). */
  history(accountId: string): Promise<PeriodSummary[]>;
  /** Called with the account id whenever any process changes an account's tier or spend limit. */
  onAccountChanged(listener: (accountId: string) => void): () => void;
  /** Replays the journal now (also done on every reconnect and epoch check); resolves with the count settled. */
  replayJournal(): Promise<number>;
}

type Reply = (string | number | null)[];

export async function createRedisLedger(opts: RedisLedgerOptions): Promise<RedisLedger> {
  const prefix = opts.keyPrefix ?? 'tg';
  const logger = opts.logger.child({ component: 'redis-ledger' });
  const { clock } = opts;
  const idemTtl = opts.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const tiers = tierTable(opts.pricing);
  const tierArg = encodeTierTable(tiers);
  const timeout = opts.commandTimeoutMs ?? 1000;
  const settleDelay = opts.settleDelayMs ?? 1;
  const openSettleDelay = opts.openSettleDelayMs ?? 5;
  const termsTtl = opts.termsTtlMs ?? 10_000;

  const owned = !opts.redis;
  // Fail fast: no offline queue (a command while disconnected rejects at once), one retry,
  // a command timeout (a hung server rejects too). Reconnects go on in the background.
  const client =
    opts.redis ??
    new Redis(opts.url ?? 'redis://127.0.0.1:6379/0', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: opts.connectTimeoutMs ?? 1000,
      commandTimeout: timeout,
      // Not ioredis's auto-pipelining: it builds a Pipeline per event-loop turn, which on the
      // request path (usually one command a turn) cost 37 µs of CPU a call against 17 without
      // it (bench/RESULTS.md). The request path batches its own calls instead (flushBatches).
      enableAutoPipelining: false,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
  client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const subscriber = client.duplicate({ lazyConnect: true, commandTimeout: undefined });
  subscriber.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis subscriber error'));
  try {
    if (owned) await client.connect();
    await requireRedisVersion(client);
    defineScripts(client);
    // The request path's scripts go by EVALSHA alone (directScript): load them up front.
    const lua = loadScripts();
    await Promise.all([client.script('LOAD', lua.reserve), client.script('LOAD', lua.settle)]);
    await subscriber.connect();
  } catch (err) {
    subscriber.disconnect();
    if (owned) client.disconnect();
    throw toLedgerError(err);
  }

  // Durability (docs/reliability.md). The epoch guard: until the epoch has been checked after
  // a (re)connect, and while it is lost, every call refuses with ledger_unavailable (settles go
  // to the journal), so nothing is served or written on a Redis that came back empty.
  const url = opts.url ?? `redis://${client.options.host ?? '127.0.0.1'}:${client.options.port ?? 6379}/${client.options.db ?? 0}`;
  const epochGuard: EpochGuard | undefined = opts.epoch
    ? await createEpochGuard({ client, keyPrefix: prefix, url, file: opts.epoch.file, logger, now: () => clock.now() })
    : undefined;
  let verified = true;
  if (epochGuard) {
    try {
      verified = await epochGuard.check();
    } catch (err) {
      subscriber.disconnect();
      if (owned) client.disconnect();
      throw toLedgerError(err);
    }
  }
  /** False while the ledger may not be the one this process knew: reconnecting, or lost. */
  const usable = () => verified && epochGuard?.lost() === undefined;
  const unusable = () => createLedgerError('ledger_unavailable', epochGuard?.lost() ?? 'the ledger is reconnecting');
  const journal: Journal | undefined = opts.journal
    ? await openJournal({ ...opts.journal, clock, logger, safeWindowMs: idemTtl - MARKER_MARGIN_MS })
    : undefined;

  const channel = `${prefix}:revoked`;
  const accountChannel = `${prefix}:account`;
  const listeners = new Set<(keyHash: string) => void>();
  const accountListeners = new Set<(accountId: string) => void>();
  /** Calls each listener; one that throws is logged and the others still hear it. */
  function notify<A>(set: Set<(arg: A) => void>, arg: A, what: string): void {
    for (const l of set) {
      try {
        l(arg);
      } catch (err) {
        logger.error({ err }, `${what} listener failed`);
      }
    }
  }
  subscriber.on('message', (ch: string, hash: string) => {
    if (ch === accountChannel) {
      forgetTerms(hash);
      notify(accountListeners, hash, 'account change');
      return;
    }
    if (ch === channel) notify(listeners, hash, 'key revocation');
  });
  try {
    await subscriber.subscribe(channel, accountChannel);
  } catch (err) {
    subscriber.disconnect();
    if (owned) client.disconnect();
    throw toLedgerError(err);
  }

  const accountsKey = `${prefix}:accounts`;
  const pendingKey = `${prefix}:overage:pending`;
  const keyKey = (hash: string) => `${prefix}:key:${hash}`;
  const keyIdKey = (id: string) => `${prefix}:keyid:${id}`;
  const stripeKey = (cus: string) => `${prefix}:stripe:${cus}`;
  // An account's key names, built once: the request path asks for them twice per request.
  type AcctKeys = ReturnType<typeof acctKeys>;
  const keyCache = new Map<string, AcctKeys>();
  const acct = (id: string): AcctKeys => {
    let k = keyCache.get(id);
    if (!k) {
      if (keyCache.size >= 10_000) keyCache.clear();
      keyCache.set(id, (k = acctKeys(id)));
    }
    return k;
  };
  const acctKeys = (id: string) => {
    const base = `${prefix}:{acct:${id}}`;
    return {
      acct: `${base}:acct`,
      state: `${base}:state`,
      resv: `${base}:resv`,
      resvAmt: `${base}:resv:amt`,
      hist: `${base}:hist`,
      outbox: `${base}:outbox`,
      lease: `${base}:lease`,
      keys: `${base}:keys`,
      secrets: `${base}:secrets`,
      audit: `${base}:audit`,
      marks: `${base}:mk:`,
    };
  };

  /** Every Redis call goes through here: transport failures become `ledger_unavailable`. */
  async function guard<T>(fn: () => Promise<T>): Promise<T> {
    if (!usable()) throw unusable();
    try {
      return await fn();
    } catch (err) {
      throw toLedgerError(err);
    }
  }
  // Local admission. A reserve can refuse only on a hard-capped tier (Free) or against an
  // account's spend limit, so for a paid account with no limit it need not wait on Redis: it
  // holds nothing and answers at once, and the request costs one round trip, its settle
  // (which rolls the period and accrues overage as before). An account's terms are read in the
  // background when a reserve finds them missing or older than termsTtl (that reserve goes to
  // Redis). updateAccount publishes every change of tier or limit on `accountChannel` in the
  // same MULTI as the write, and each process forgets the account when the message arrives.
  // While the subscriber is not connected the terms are not used (messages could be lost), and
  // a read that was under way when the account changed (or the connection dropped) is dropped
  // (termsEpoch), so a read never outlives a change it might predate. Nor are they used while
  // the ledger's calls fail or stall (a script call unanswered for STALL_MS, a hung Redis):
  // then reserves go to Redis and fail as they would (503), rather than admitting requests
  // whose settles could not be recorded.
  interface Terms {
    open: boolean;
    until: number;
  }
  const terms = new Map<string, Terms>();
  const termsReading = new Set<string>();
  let termsEpoch = 0;
  function forgetTerms(accountId: string | undefined): void {
    termsEpoch++;
    if (accountId === undefined) terms.clear();
    else terms.delete(accountId);
  }
  // Messages sent while the subscriber is down are lost: forget what they could have changed,
  // when the connection closes and again once the channels are subscribed anew (ioredis
  // reports `ready` before its resubscription is in force: until our own SUBSCRIBE is answered,
  // after it on the same connection, a message could still be missed).
  const lostListeners = new Set<() => void>();
  let subscribed = true;
  const messagesLost = () => {
    forgetTerms(undefined);
    notify(lostListeners, undefined, 'pub/sub loss');
  };
  subscriber.on('close', () => {
    subscribed = false;
    messagesLost();
  });
  subscriber.on('ready', () => {
    if (subscribed) return;
    subscriber.subscribe(channel, accountChannel).then(
      () => {
        subscribed = true;
        messagesLost();
      },
      () => {
        // the connection dropped again: the next `ready` tries again
      },
    );
  });
  let scriptsOut = 0;
  let progressAt = 0;
  let scriptsFailing = false;
  const termsUsable = () =>
    usable() &&
    subscribed && subscriber.status === 'ready' && client.status === 'ready' && !scriptsFailing && (scriptsOut === 0 || performance.now() - progressAt < STALL_MS);
  function readTerms(accountId: string): void {
    if (termsTtl <= 0 || termsReading.has(accountId) || !termsUsable()) return;
    termsReading.add(accountId);
    const epoch = termsEpoch;
    client.hmget(acct(accountId).acct, 'id', 'tier', 'cap').then(
      ([id, tier, cap]) => {
        termsReading.delete(accountId);
        if (epoch !== termsEpoch || !termsUsable() || (!id && !tier)) return;
        if (terms.size >= 100_000) terms.clear();
        terms.set(accountId, { open: !tierOf(tier ?? undefined).hardCap && (cap === null || cap === ''), until: clock.now() + termsTtl });
      },
      () => termsReading.delete(accountId),
    );
  }
  const ADMITTED_LOCALLY: ReserveResult = Object.freeze({ ok: true, local: true });
  const ADMITTED: ReserveResult = Object.freeze({ ok: true });
  const ADMITTED_OPEN: ReserveResult = Object.freeze({ ok: true, open: true });

  const script = (name: ScriptName, keys: string[], args: (string | number)[]) =>
    runScript(client, name, keys, args) as Promise<Reply>;
  const reserveScript = directScript(client, 'reserve');
  const settleScript = directScript(client, 'settle');

  // The request path's calls are batched: the reserves (and the settles) one account asks for
  // in one event-loop turn go to Redis as one script call, flushed after the turn's I/O
  // callbacks (setImmediate), with every account's calls in one write (the socket corked).
  // A script call's fixed cost, in ioredis and in Redis, is paid once per account per turn,
  // and the account's keys and the turn's constants are sent once. The scripts decide each
  // entry in order, as if it had been its own call (ledger/scripts/reserve.lua, settle.lua).
  // Settles wait up to settleDelay for a turn with reserves and go in its write, first: under
  // load most turns hold only one kind, and a write to Redis (a syscall that wakes the other
  // CPU) costs more than the script call (Redis reads per request at 32 connections in the
  // bench: 0.148 -> 0.128).
  interface Waiter<I, R> {
    input: I;
    resolve(r: R): void;
    reject(err: unknown): void;
  }
  type ReserveReply = [number, number, number, number];
  type SettleReply = [number, number, number];
  /** A locally admitted request's reservation, sent in the settle batches (settle.lua's 'r' entries). */
  interface HoldRecord {
    record: true;
    requestId: string;
    modality: string;
    microCredits: number;
    floorMicro: number;
    expiresAt: number;
  }
  const reserveQueue = new Map<string, Array<Waiter<ReserveInput, ReserveReply>>>();
  const settleQueue = new Map<string, Array<Waiter<SettleInput | HoldRecord, SettleReply>>>();
  const ignore = () => {};
  let flushScheduled = false;
  /** Settles waiting for a reserve batch to ride with, or for this timer, due at settleDue. */
  let settleTimer: NodeJS.Timeout | undefined;
  let settleDue = 0;
  const flushSettles = () => {
    settleTimer = undefined;
    flushBatches();
  };
  /** The settles waiting go within `delay` ms at the latest (the soonest of their delays). */
  const settleWithin = (delay: number) => {
    const due = performance.now() + delay;
    if (settleTimer) {
      if (due >= settleDue) return;
      clearTimeout(settleTimer);
    }
    settleDue = due;
    settleTimer = setTimeout(flushSettles, delay);
  };
  const ttlArg = new Map<number, string>();
  const idemArg = String(idemTtl);
  /** The batch scripts' keys: the account's, then its markers' windows: current, previous, the one to drop. */
  const markKeys = (k: AcctKeys, now: number): string[] => {
    const w = Math.floor(now / idemTtl);
    return [k.acct, k.state, k.resv, k.resvAmt, k.hist, k.marks + w, k.marks + (w - 1), k.marks + (w - 2)];
  };

  /** Queues a call for the next flush: at the end of this turn, or within `delayMs` (> 0). */
  function enqueue<I, R>(queue: Map<string, Array<Waiter<I, R>>>, accountId: string, input: I, delayMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let q = queue.get(accountId);
      if (!q) queue.set(accountId, (q = []));
      q.push({ input, resolve, reject });
      if (flushScheduled) return;
      if (delayMs > 0) settleWithin(delayMs);
      else {
        flushScheduled = true;
        setImmediate(flushBatches);
      }
    });
  }

  function flushBatches(): void {
    flushScheduled = false;
    if (settleTimer) {
      clearTimeout(settleTimer);
      settleTimer = undefined;
    }
    const stream = client.status === 'ready' ? (client as unknown as { stream?: { cork(): void; uncork(): void; writable?: boolean } }).stream : undefined;
    const cork = stream && stream.writable !== false ? stream : undefined;
    cork?.cork();
    try {
      // Settles first: what they release is there for the reserves of the same turn.
      for (const [accountId, q] of settleQueue) for (let i = 0; i < q.length; i += MAX_BATCH) sendSettles(accountId, q.slice(i, i + MAX_BATCH));
      settleQueue.clear();
      for (const [accountId, q] of reserveQueue) for (let i = 0; i < q.length; i += MAX_BATCH) sendReserves(accountId, q.slice(i, i + MAX_BATCH));
      reserveQueue.clear();
    } finally {
      cork?.uncork();
    }
  }

  function sendReserves(accountId: string, batch: Array<Waiter<ReserveInput, ReserveReply>>): void {
    const k = acct(accountId);
    const now = clock.now();
    const keys = markKeys(k, now);
    // The reservation ttl is per call in the Ledger API; a batch shares one, so split by it.
    const ttl = batch[0]!.input.ttlMs;
    if (batch.some((w) => w.input.ttlMs !== ttl)) {
      const byTtl = new Map<number, typeof batch>();
      for (const w of batch) {
        const g = byTtl.get(w.input.ttlMs);
        if (g) g.push(w);
        else byTtl.set(w.input.ttlMs, [w]);
      }
      for (const g of byTtl.values()) sendReserves(accountId, g);
      return;
    }
    let ttlS = ttlArg.get(ttl);
    if (!ttlS) ttlArg.set(ttl, (ttlS = String(ttl)));
    const args: string[] = [String(now), ttlS, idemArg, tierArg];
    for (const { input } of batch) {
      const floor = input.floorMicro ?? 0;
      args.push(input.requestId, String(input.microCredits), String(floor), floor > 0 ? input.modality! : '');
    }
    deliver(reserveScript(keys, args), batch, (one) => sendReserves(accountId, one));
  }

  function sendSettles(accountId: string, batch: Array<Waiter<SettleInput | HoldRecord, SettleReply>>): void {
    const now = clock.now();
    const keys = markKeys(acct(accountId), now);
    const args: string[] = [String(now), idemArg, tierArg];
    for (const { input } of batch) {
      if ('record' in input) {
        args.push(input.requestId, input.modality, 'r', String(input.microCredits), String(input.floorMicro), String(input.expiresAt));
        continue;
      }
      const at = args.length;
      // Flags: 1 BYOK, 2 counts no request (settle.lua).
      args.push(input.requestId, input.modality, String((input.byok ? 1 : 0) + (input.requests === 0 ? 2 : 0)), input.byok ? '0' : String(input.microCredits), '0');
      if (input.byok) {
        let pairs = 0;
        for (const f of UNIT_FIELDS) {
          const v = input.units[f];
          if (v) {
            args.push(f, String(v));
            pairs++;
          }
        }
        args[at + 4] = String(pairs);
      }
    }
    deliver(settleScript(keys, args), batch, (one) => sendSettles(accountId, one));
  }

  /**
   * Hands a batch's rows to its callers. When Redis answers the script with an error (not a
   * lost connection), the batch is sent again one entry per call, so one bad entry (a key of
   * the wrong type, say) fails alone: a batch that fails has written nothing (lib/batch.lua).
   */
  function deliver<I, R>(reply: Promise<unknown>, batch: Array<Waiter<I, R>>, resendOne: (one: Array<Waiter<I, R>>) => void): void {
    if (scriptsOut++ === 0) progressAt = performance.now();
    reply.then(
      (rows) => {
        scriptsOut--;
        progressAt = performance.now();
        scriptsFailing = false;
        const r = rows as R[];
        for (let i = 0; i < batch.length; i++) {
          const row = r[i];
          if (row === undefined) batch[i]!.reject(createLedgerError('ledger_unavailable', `the ledger script answered ${r.length} rows for ${batch.length} entries`));
          else batch[i]!.resolve(row);
        }
      },
      (err: unknown) => {
        scriptsOut--;
        progressAt = performance.now();
        const replyError = (err as { name?: string })?.name === 'ReplyError';
        if (!replyError) scriptsFailing = true;
        if (batch.length > 1 && replyError) {
          logger.warn({ err: (err as Error).message, entries: batch.length }, 'ledger batch failed in Redis; sending its entries one by one');
          for (const w of batch) resendOne([w]);
          return;
        }
        const e = toLedgerError(err);
        for (const w of batch) w.reject(e);
      },
    );
  }

  function tierOf(id: string | undefined): TierParams {
    return tiers[(id ?? 'free') as TierId] ?? tiers.free;
  }

  async function getAccount(id: string): Promise<Account | null> {
    checkAccountId(id);
    return guard(async () => parseAccount(await client.hgetall(acct(id).acct)));
  }

  async function requireAccount(id: string): Promise<Account> {
    const a = await getAccount(id);
    if (!a) throw createLedgerError('unknown_account', `no account ${id}`);
    return a;
  }

  async function usageState(accountId: string): Promise<{ tier: TierParams; st: PeriodState }> {
    checkAccountId(accountId);
    const k = acct(accountId);
    const now = clock.now();
    const reply = await guard(() => script('usage', markKeys(k, now), [now, tierArg, idemArg]));
    if (reply.length === 0) throw createLedgerError('unknown_account', `no account ${accountId}`);
    const fields: Record<string, string> = {};
    for (let i = 1; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
    return { tier: tierOf(String(reply[0])), st: stateFromHash(fields) };
  }

  let closed = false;
  // The journal: a settle that cannot reach Redis waits on disk (ledger/journal.ts) and is
  // replayed, exactly once, when Redis answers again and the epoch checks out.
  /** 'sure': Redis refused it unapplied (not connected, loading); 'maybe': it may have been applied; null: not an outage. */
  function outage(err: unknown): 'sure' | 'maybe' | null {
    if (!(err instanceof LedgerError) || err.code !== 'ledger_unavailable') return null;
    const cause = err.cause as { name?: string; message?: string } | undefined;
    const msg = String(cause?.message ?? err.message);
    if (/enableOfflineQueue|^LOADING|reconnecting|came back empty|has epoch/.test(msg)) return 'sure';
    if (cause?.name === 'ReplyError' && !/^(BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN)/.test(msg)) return null;
    return 'maybe';
  }
  async function journaled(input: SettleInput, maybeSent: boolean, err: unknown): Promise<SettleResult> {
    if (!journal) throw err instanceof LedgerError ? err : toLedgerError(err);
    try {
      await journal.append(input, maybeSent);
    } catch (e) {
      throw createLedgerError('ledger_unavailable', `the ledger is unavailable and the journal refused the settle: ${(e as Error).message}`, e);
    }
    if (journal.size() === 1 || journal.size() % 100 === 0) logger.warn({ waiting: journal.size(), dir: journal.dir }, 'the ledger is unreachable: settles wait in the journal');
    return { applied: false, journaled: true };
  }
  async function replayJournal(): Promise<number> {
    if (!journal || !usable() || client.status !== 'ready') return 0;
    return journal.replay(async (inputs) => {
      if (!usable()) throw unusable();
      return Promise.all(
        inputs.map((input) =>
          enqueue(settleQueue, input.accountId, input, 0).then(
            ([applied, accrued]) => {
              if (Number(applied) === -1) logger.error({ settlement: input }, 'journaled settle of an account that no longer exists: dropped');
              if (Number(accrued) === 1) client.sadd(pendingKey, input.accountId).catch(ignore);
              return 'done' as const;
            },
            () => 'retry' as const,
          ),
        ),
      );
    });
  }
  /** Checks the epoch (after a reconnect, and every checkMs), then replays what waits. */
  async function verify(): Promise<void> {
    if (closed || client.status !== 'ready') return;
    if (epochGuard) {
      try {
        verified = await epochGuard.check();
      } catch {
        return; // unreachable again: the next `ready` checks
      }
    }
    if (usable() && journal && journal.size() > 0) await replayJournal().catch((err: unknown) => logger.warn({ err }, 'journal replay failed; retrying later'));
  }
  client.on('ready', () => void verify());
  client.on('close', () => {
    if (epochGuard) verified = false;
  });
  const epochTimer = epochGuard || journal ? setInterval(() => void verify(), opts.epoch?.checkMs ?? 5_000) : undefined;
  epochTimer?.unref();

  const outbox: OverageOutbox = {
    async pendingAccounts(full) {
      return guard(() => client.smembers(full ? accountsKey : pendingKey));
    },
    async lease(accountId, owner, ttlMs) {
      const k = acct(accountId);
      return guard(async () => (await client.set(k.lease, owner, 'PX', ttlMs, 'NX')) === 'OK');
    },
    async release(accountId, owner) {
      await guard(() => script('lease-release', [acct(accountId).lease], [owner]));
    },
    async prepare(accountId, customer, now): Promise<PrepareResult> {
      const k = acct(accountId);
      const minStamp = now - STRIPE_WINDOW_MS + STAMP_MARGIN_MS;
      const r = await guard(() =>
        script('outbox-prepare', [k.acct, k.state, k.hist, k.outbox], [now, tierArg, customer ?? '', minStamp, accountId]),
      );
      switch (r[0]) {
        case 'batch':
          return {
            kind: 'batch',
            batch: {
              accountId,
              identifier: String(r[1]),
              value: Number(r[2]),
              timestamp: Number(r[3]),
              stripeCustomerId: String(r[4]),
              periodStart: Number(r[5]),
            },
          };
        case 'needs_customer':
          return { kind: 'needs_customer' };
        case 'none':
          return { kind: 'none', remainderMicro: Number(r[1]) };
        default:
          throw createLedgerError('unknown_account', `no account ${accountId}`);
      }
    },
    async commit(accountId, identifier) {
      const k = acct(accountId);
      return guard(async () => Number(await script('outbox-commit', [k.state, k.outbox], [identifier])) === 1);
    },
    async markClean(accountId) {
      const k = acct(accountId);
      // Remove, then unmark unless still pending (outbox-clean.lua): a settle marking the
      // account after the script runs adds it back after this removal.
      await guard(async () => {
        await client.srem(pendingKey, accountId);
        if (Number(await script('outbox-clean', [k.state, k.outbox], [])) === 0) await client.sadd(pendingKey, accountId);
      });
    },
    async reportedMicro(accountId) {
      return guard(async () => Number((await client.hget(acct(accountId).state, 'ovr')) ?? 0));
    },
  };

  const ledger: RedisLedger = {
    kind: 'redis',
    outbox,
    audit: createRedisAuditLog({ client, prefix, clock, accountKey: (id) => acct(id).audit, guard }),

    async ensureAccount(input) {
      checkAccountId(input.id);
      checkTier(input.tier);
      const k = acct(input.id);
      return guard(async () => {
        const flat = (await script('account-ensure', [k.acct, k.state], [input.id, input.tier, input.stripeCustomerId ?? '', clock.now()])) as string[];
        await client.sadd(accountsKey, input.id);
        const account = parseAccount(pairs(flat));
        if (!account) throw createLedgerError('unknown_account', `account ${input.id} vanished`);
        if (account.stripeCustomerId) await client.set(stripeKey(account.stripeCustomerId), input.id);
        return account;
      });
    },

    getAccount,

    async listAccounts() {
      return guard(async () => {
        const ids = (await client.smembers(accountsKey)).sort();
        const all = await Promise.all(ids.map((id) => client.hgetall(acct(id).acct)));
        return all.map(parseAccount).filter((a): a is Account => a !== null);
      });
    },

    async updateAccount(id, patch) {
      checkAccountId(id);
      checkPatch(patch);
      const before = await requireAccount(id);
      const k = acct(id);
      await guard(async () => {
        // The period first, so a period closed by it is closed under the tier it ran on.
        if (patch.period) {
          await script('set-period', [k.acct, k.state, k.hist], [clock.now(), patch.period.start, patch.period.end, tierArg]);
        }
        const set: Record<string, string> = {};
        const del: string[] = [];
        if (patch.tier !== undefined) set.tier = patch.tier;
        if (patch.status !== undefined) set.status = patch.status;
        const opt = (field: string, v: string | number | null | undefined) => {
          if (v === undefined) return;
          if (v === null) del.push(field);
          else set[field] = String(v);
        };
        opt('cus', patch.stripeCustomerId);
        opt('sub', patch.stripeSubscriptionId);
        opt('cap', patch.overageCapMicro);
        opt('org', patch.origin);
        opt('del', patch.deletedAt);
        if (patch.suspended !== undefined) opt('susp', patch.suspended ? 1 : null);
        if (Object.keys(set).length || del.length) {
          // Terms read before this change must not be used after it (local admission).
          forgetTerms(id);
          const tx = client.multi();
          if (Object.keys(set).length) tx.hset(k.acct, set);
          if (del.length) tx.hdel(k.acct, ...del);
          tx.publish(accountChannel, id);
          // Suspension: every replica's key cache forgets the account's keys (as on a revocation),
          // so the next request reads the account's state again.
          if (patch.suspended !== undefined) for (const h of await client.smembers(k.keys)) tx.publish(channel, h);
          await tx.exec();
          forgetTerms(id);
        }
        if (patch.stripeCustomerId !== undefined && patch.stripeCustomerId !== before.stripeCustomerId) {
          if (before.stripeCustomerId && (await client.get(stripeKey(before.stripeCustomerId))) === id) {
            await client.del(stripeKey(before.stripeCustomerId));
          }
          if (patch.stripeCustomerId) await client.set(stripeKey(patch.stripeCustomerId), id);
        }
      });
      return requireAccount(id);
    },

    async findAccountByStripeCustomer(customerId) {
      const id = await guard(() => client.get(stripeKey(customerId)));
      if (!id) return null;
      const a = await getAccount(id);
      return a && a.stripeCustomerId === customerId ? a : null;
    },

    async addKey(accountId, keyHash, label) {
      const hash = normalizeKeyHash(keyHash);
      await requireAccount(accountId);
      return guard(async () => {
        const kk = keyKey(hash);
        if ((await client.hsetnx(kk, 'accountId', accountId)) === 0) {
          const existing = keyInfo(hash, await client.hgetall(kk));
          if (!existing || existing.accountId !== accountId) {
            throw createLedgerError('key_conflict', `key ${keyIdOf(hash)} belongs to another account`);
          }
          return existing;
        }
        const now = clock.now();
        await client.hset(kk, { createdAt: String(now), ...(label !== undefined ? { label } : {}) });
        await client.set(keyIdKey(keyIdOf(hash)), hash);
        await client.sadd(acct(accountId).keys, hash);
        return { id: keyIdOf(hash), accountId, createdAt: now, ...(label !== undefined ? { label } : {}) };
      });
    },

    async revokeKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return false;
      const ref = idOrHash.toLowerCase();
      return guard(async () => {
        const hash = kind === 'hash' ? ref : await client.get(keyIdKey(ref));
        if (!hash) return false;
        const r = await script('key-revoke', [keyKey(hash)], [clock.now(), channel, hash]);
        return Number(r) === 1;
      });
    },

    async listKeys(accountId) {
      checkAccountId(accountId);
      return guard(async () => {
        const hashes = await client.smembers(acct(accountId).keys);
        const infos = await Promise.all(hashes.map(async (h) => keyInfo(h, await client.hgetall(keyKey(h)))));
        return infos.filter((i): i is ApiKeyInfo => i !== null).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
      });
    },

    async getKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return null;
      const ref = idOrHash.toLowerCase();
      return guard(async () => {
        const hash = kind === 'hash' ? ref : await client.get(keyIdKey(ref));
        return hash ? keyInfo(hash, await client.hgetall(keyKey(hash))) : null;
      });
    },

    async resolveKey(keyHash) {
      const hash = String(keyHash).toLowerCase();
      const [accountId, revokedAt] = await guard(() => client.hmget(keyKey(hash), 'accountId', 'revokedAt'));
      if (!accountId || revokedAt) return null;
      const [tier, susp] = await guard(() => client.hmget(acct(accountId).acct, 'tier', 'susp'));
      const owner: KeyOwner = { accountId, keyId: keyIdOf(hash), tier: (tier ?? 'free') as TierId };
      if (susp) owner.suspended = true;
      return owner;
    },

    onKeyRevoked(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    onAccountChanged(listener) {
      accountListeners.add(listener);
      return () => accountListeners.delete(listener);
    },

    onMessagesLost(listener) {
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },

    async reserve(input: ReserveInput): Promise<ReserveResult> {
      checkReserve(input);
      if (!usable()) throw unusable();
      // The request's marker must outlive its reservation, so a late duplicate holds nothing.
      if (input.ttlMs + MARKER_MARGIN_MS > idemTtl) {
        throw createLedgerError('invalid_input', `reserve: ttlMs ${input.ttlMs} is too long for the idempotency ttl of ${idemTtl} ms (at most ${idemTtl - MARKER_MARGIN_MS})`);
      }
      const t = terms.get(input.accountId);
      const now = clock.now();
      if (t === undefined || t.until <= now) readTerms(input.accountId);
      else if (t.open && termsUsable()) {
        // Its reservation record rides with the account's next settles, unanswered: nothing
        // waits on it, and an expiry (a process killed mid-request) charges its floor.
        if (input.microCredits > 0) {
          const rec: HoldRecord = {
            record: true,
            requestId: input.requestId,
            modality: input.modality ?? 'llm',
            microCredits: input.microCredits,
            floorMicro: input.floorMicro ?? 0,
            expiresAt: now + input.ttlMs,
          };
          enqueue(settleQueue, input.accountId, rec, openSettleDelay).catch(ignore);
        }
        return ADMITTED_LOCALLY;
      }
      const [code, used, limit, open] = await enqueue(reserveQueue, input.accountId, input, 0);
      const usedMicro = Number(used);
      const limitMicro = Number(limit);
      switch (Number(code)) {
        case 1:
        case 2:
          return Number(open) === 1 ? ADMITTED_OPEN : ADMITTED;
        case 0:
          return { ok: false, reason: 'unknown_account', usedMicro: 0, limitMicro: 0 };
        case -1:
          return { ok: false, reason: 'insufficient_credits', usedMicro, limitMicro };
        default:
          return { ok: false, reason: 'overage_cap', usedMicro, limitMicro };
      }
    },

    async settle(input: SettleInput): Promise<SettleResult> {
      checkSettle(input);
      if (!usable()) return journaled(input, false, unusable());
      // An account admitted locally releases no hold that could refuse anyone: it may wait longer.
      const t = terms.get(input.accountId);
      const delay = t !== undefined && t.open && t.until > clock.now() && termsUsable() ? openSettleDelay : settleDelay;
      let applied: number, accrued: number, writtenOff: number;
      try {
        [applied, accrued, writtenOff] = await enqueue(settleQueue, input.accountId, input, delay);
      } catch (err) {
        const why = outage(err);
        if (why) return journaled(input, why === 'maybe', err);
        throw err;
      }
      if (Number(applied) === -1) throw createLedgerError('unknown_account', `no account ${input.accountId}`);
      // Once per overage episode (settle.lua's mark): tell the flusher. The flusher's
      // periodic full sweep covers a crash between the script and this line.
      if (Number(accrued) === 1) await guard(() => client.sadd(pendingKey, input.accountId));
      const wo = Number(writtenOff ?? 0);
      return wo > 0 ? { applied: Number(applied) === 1, writtenOffMicro: wo } : { applied: Number(applied) === 1 };
    },

    async usage(accountId): Promise<UsageSnapshot> {
      const { tier, st } = await usageState(accountId);
      return snapshot(accountId, tier, st);
    },

    async history(accountId) {
      checkAccountId(accountId);
      const rows = await guard(() => client.lrange(acct(accountId).hist, 0, -1));
      return rows.map(parseHistory);
    },

    async putSecret(accountId, name, sealed) {
      await requireAccount(accountId);
      await guard(() => client.hset(acct(accountId).secrets, name, sealed));
    },
    async getSecret(accountId, name) {
      checkAccountId(accountId);
      return guard(() => client.hget(acct(accountId).secrets, name));
    },
    async deleteSecret(accountId, name) {
      checkAccountId(accountId);
      return guard(async () => (await client.hdel(acct(accountId).secrets, name)) === 1);
    },
    async listSecrets(accountId) {
      checkAccountId(accountId);
      return guard(async () => (await client.hkeys(acct(accountId).secrets)).sort());
    },

    replayJournal,

    health() {
      return { ready: usable(), reason: epochGuard?.lost() ?? (verified ? undefined : 'reconnecting'), journaled: journal?.size() ?? 0 };
    },

    async ping() {
      if (!usable()) return false;
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      // Calls queued go out before the connection closes (QUIT waits for their replies).
      if (flushScheduled || settleTimer) flushBatches();
      clearInterval(epochTimer);
      await journal?.close();
      listeners.clear();
      accountListeners.clear();
      lostListeners.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  };
  logger.debug({ prefix }, 'redis ledger ready');
  void verify();
  return ledger;
}

/** The ledger's scripts write several hash fields in one HSET (Redis 4.0): refuse an older server at start, clearly. */
export async function requireRedisVersion(client: Pick<Redis, 'info'>): Promise<void> {
  const info = await client.info('server');
  const v = /redis_version:(\d+)\.(\d+)/.exec(info);
  if (v && Number(v[1]) < 4) {
    throw createLedgerError('ledger_unavailable', `Redis ${v[1]}.${v[2]} is too old: tollgate needs Redis 4.0 or later (tested on 7.0)`);
  }
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function parseAccount(h: Record<string, string>): Account | null {
  if (!h.id) return null;
  const a: Account = {
    id: h.id,
    tier: (h.tier ?? 'free') as TierId,
    status: (h.status ?? 'active') as AccountStatus,
    createdAt: Number(h.createdAt ?? 0),
  };
  if (h.cus) a.stripeCustomerId = h.cus;
  if (h.sub) a.stripeSubscriptionId = h.sub;
  a.overageCapMicro = h.cap !== undefined && h.cap !== '' ? Number(h.cap) : null;
  if (h.org === 'config') a.origin = 'config';
  if (h.susp) a.suspended = true;
  if (h.del) a.deletedAt = Number(h.del);
  return a;
}

function keyInfo(hash: string, h: Record<string, string>): ApiKeyInfo | null {
  if (!h.accountId) return null;
  const info: ApiKeyInfo = { id: keyIdOf(hash), accountId: h.accountId, createdAt: Number(h.createdAt ?? 0) };
  if (h.revokedAt) info.revokedAt = Number(h.revokedAt);
  if (h.label !== undefined) info.label = h.label;
  return info;
}

function parseCarry(s: string | undefined): RawBucket[] {
  if (!s) return [];
  return s
    .split(';')
    .filter(Boolean)
    .map((part) => {
      const [from, amount, expires] = part.split(',').map(Number);
      return { from: from ?? 0, amount: amount ?? 0, expires: expires ?? 0 };
    });
}

/** The state hash (after usage.lua) as a PeriodState; absent fields are zero. */
export function stateFromHash(h: Record<string, string>): PeriodState {
  const n = (f: string) => Number(h[f] ?? 0);
  const st = newState(n('ps'));
  Object.assign(st, {
    ps: n('ps'),
    pe: n('pe'),
    an: n('an'),
    pk: n('pk'),
    pm: n('pm'),
    used: n('used'),
    held: n('held'),
    n: n('n'),
    byokN: n('bn'),
    carry: parseCarry(h.carry),
    cs: n('cs'),
    ova: n('ova'),
    ovp: n('ovp'),
    ovc: n('ovc'),
    ovct: n('ovct'),
    ovcs: n('ovcs'),
    obs: n('obs'),
    ovr: n('ovr'),
  });
  for (const m of Object.keys(st.breakdown) as Modality[]) st.breakdown[m] = n(`b:${m}`);
  for (const [f, v] of Object.entries(h)) {
    if (!f.startsWith('bu:')) continue;
    const [, m, unit] = f.split(':') as [string, Modality, keyof UsageUnits];
    const units = st.byokUnits[m];
    if (units) units[unit] = Number(v);
  }
  return st;
}

function parseHistory(row: string): PeriodSummary {
  const [start, end, tier, inc, cs, used, n, ova, unused] = row.split(',');
  return {
    start: Number(start),
    end: Number(end),
    tier: tier as TierId,
    includedMicro: Number(inc),
    carryoverMicro: Number(cs),
    usedMicro: Number(used),
    requestCount: Number(n),
    overageMicro: Number(ova),
    unusedIncludedMicro: Number(unused),
  };
}
