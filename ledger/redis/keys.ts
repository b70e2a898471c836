// Where every Redis key and channel of the ledger is named (prefix `tg` by default).
//
// Every key of one account shares the tag {acct:ID}, so each script touches one Redis Cluster
// slot:
//   tg:{acct:ID}:acct          HASH  id, tier, status, cus, sub, cap, createdAt, org (origin),
//                                    susp (suspended: 1), del (deleted at, ms), tz (time zone)
//   tg:{acct:ID}:audit         STREAM the account's audit entries (ledger/audit-log.ts)
//   tg:{acct:ID}:state         HASH  period, counters, carryover, overage (see PeriodState)
//   tg:{acct:ID}:resv          ZSET  open reservations: requestId -> expiry ms
//   tg:{acct:ID}:resv:amt      HASH  open reservations: requestId -> µcr held
//   tg:{acct:ID}:mk:N          HASH  idempotency markers written in window N (N = now ÷ the
//                                    idempotency ttl): requestId -> R(eserved) / S(ettled);
//                                    unlinked by the first batch of window N + 2, else expires
//                                    at its end
//   tg:{acct:ID}:hist          LIST  closed periods, newest first (bounded)
//   tg:{acct:ID}:u:h:YYYYMMDDHH HASH usage history, hourly (UTC); tg:{acct:ID}:u:d:YYYYMMDD
//                                    daily (the account's time zone); fields and lifetimes in
//                                    ledger/usage-history.ts, written by the charging scripts
//   tg:{acct:ID}:rc            LIST  receipts, newest first, capped (GET /v1/usage/events; ledger/redis/history.ts)
//   tg:{acct:ID}:outbox        HASH  the overage batch in flight to Stripe
//   tg:{acct:ID}:lease         STRING the flusher holding this account
//   tg:{acct:ID}:alerts        HASH  threshold alerts fired this period, and waiting (lib/alerts.lua)
//   tg:{acct:ID}:alerts:lease  STRING the alert deliverer holding this account
//   tg:{acct:ID}:keys          SET   the account's key hashes
//   tg:{acct:ID}:secrets       HASH  sealed BYOK keys
//   tg:{acct:ID}:sessions      ZSET  open realtime sessions: sessionId -> lease expiry ms
//                                    (session-open.lua; expires with its longest lease)
//   tg:accounts                SET   every account id
//   tg:overage:pending         SET   accounts that may have overage to report
//   tg:alerts:pending          SET   accounts that may have alerts waiting (alert-outbox.ts)
//   tg:key:HASH                HASH  accountId, createdAt, label, revokedAt
//   tg:keyid:ID                STRING key id -> hash
//   tg:stripe:CUS              STRING Stripe customer -> account id
//   tg:audit                   STREAM every audit entry (capped)
//   tg:ledger:epoch            HASH  the ledger's epoch (ledger/epoch.ts); on a cluster instead
//   tg:ledger:epoch:{TAG}      HASH  the same, under 64 tags spread over the slots (every shard)
//   channel tg:revoked         revoked key hashes
//   channel tg:account         ids of accounts whose tier or spend limit changed
//                              (sharded channels on a cluster of Redis 7+, classic elsewhere)
//
// On a Redis Cluster: every script's KEYS are one account's (one slot), or one key; no MULTI.
// The keys outside any account (the two sets, key and customer lookups, the global audit
// stream) are single keys, each in its own slot, read and written by single-key commands
// after the account's script (a script may touch only its own slot): a crash between the two
// leaves an index short, which the flusher's full run covers by scanning every master for
// account hashes (sweep.ts); a key lookup is written before the account's key set, so it is
// never missing for a key the account lists.

import { dayId, hourId } from '../usage-history.js';

/** One account's key names. */
export interface AcctKeys {
  acct: string;
  state: string;
  resv: string;
  resvAmt: string;
  hist: string;
  outbox: string;
  lease: string;
  keys: string;
  secrets: string;
  audit: string;
  /** The idempotency markers' prefix: the window number follows. */
  marks: string;
  /** The usage history's hourly and daily buckets' prefixes (the bucket id follows), its receipts. */
  hour: string;
  day: string;
  rc: string;
  alerts: string;
  alertsLease: string;
  sessions: string;
}

export interface KeyLayout {
  readonly prefix: string;
  readonly accounts: string;
  readonly pending: string;
  readonly alertsPending: string;
  /** Channel of revoked key hashes. */
  readonly revokedChannel: string;
  /** Channel of ids of accounts whose terms changed. */
  readonly accountChannel: string;
  key(hash: string): string;
  keyId(id: string): string;
  stripe(customer: string): string;
  acct(id: string): AcctKeys;
  /**
   * The batch scripts' keys: the account's, its markers' windows (current, previous, the one to
   * drop), then the usage history's hourly bucket of `now`, its daily bucket in `zone`, and the
   * receipts (ledger/scripts/lib/usage-history.lua); then its alert key (lib/alerts.lua).
   */
  markKeys(k: AcctKeys, now: number, zone: string): string[];
}

export function keyLayout(prefix: string, idemTtl: number): KeyLayout {
  // An account's key names, built once: the request path asks for them twice per request.
  const keyCache = new Map<string, AcctKeys>();
  // The hour's id, computed once an hour (dayId() caches its day the same way).
  let hourFrom = 0;
  let hourTo = 0;
  let hourName = '';
  const hourOf = (now: number): string => {
    if (now < hourFrom || now >= hourTo) {
      hourFrom = now - (now % 3_600_000);
      hourTo = hourFrom + 3_600_000;
      hourName = hourId(now);
    }
    return hourName;
  };
  const acctKeys = (id: string): AcctKeys => {
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
      hour: `${base}:u:h:`,
      day: `${base}:u:d:`,
      rc: `${base}:rc`,
      alerts: `${base}:alerts`,
      alertsLease: `${base}:alerts:lease`,
      sessions: `${base}:sessions`,
    };
  };
  return {
    prefix,
    accounts: `${prefix}:accounts`,
    pending: `${prefix}:overage:pending`,
    alertsPending: `${prefix}:alerts:pending`,
    revokedChannel: `${prefix}:revoked`,
    accountChannel: `${prefix}:account`,
    key: (hash) => `${prefix}:key:${hash}`,
    keyId: (id) => `${prefix}:keyid:${id}`,
    stripe: (cus) => `${prefix}:stripe:${cus}`,
    acct(id) {
      let k = keyCache.get(id);
      if (!k) {
        if (keyCache.size >= 10_000) keyCache.clear();
        keyCache.set(id, (k = acctKeys(id)));
      }
      return k;
    },
    markKeys(k, now, zone) {
      const w = Math.floor(now / idemTtl);
      return [k.acct, k.state, k.resv, k.resvAmt, k.hist, k.marks + w, k.marks + (w - 1), k.marks + (w - 2), k.hour + hourOf(now), k.day + dayId(now, zone), k.rc, k.alerts];
    },
  };
}
