// Where admission is decided without Redis: local admission of open accounts.
//
// A reserve can refuse only on a hard-capped tier (Free) or against an account's spend limit,
// so for a paid account with no limit it need not wait on Redis: it holds nothing and answers
// at once, and the request costs one round trip, its settle (which rolls the period and
// accrues overage as before). An account's terms are read in the background when a reserve
// finds them missing or older than termsTtl (that reserve goes to Redis). updateAccount
// publishes every change of tier or limit on the account channel in the same MULTI as the
// write, and each process forgets the account when the message arrives. While the subscriber
// is not connected the terms are not used (messages could be lost), and a read that was under
// way when the account changed (or the connection dropped) is dropped (the epoch below), so a
// read never outlives a change it might predate. Nor are they used while the ledger's calls
// fail or stall (a script call unanswered for the batcher's stall time, a hung Redis): then
// reserves go to Redis and fail as they would (503), rather than admitting requests whose
// settles could not be recorded.

import type { RedisClient } from './connection.js';
import type { TierParams } from '../account-state.js';
import type { Clock } from '../types.js';
import type { KeyLayout } from './keys.js';

export interface Admission {
  /**
   * True when a reserve of this account may be admitted here without Redis. When the terms
   * are missing or stale they are read in the background (and this reserve goes to Redis).
   */
  admitsLocally(accountId: string, now: number): boolean;
  /** True when the account is admitted locally now (its settles may wait longer). */
  isOpen(accountId: string): boolean;
  /** Forgets one account's terms, or every account's (undefined). */
  forget(accountId: string | undefined): void;
}

export interface AdmissionOptions {
  client: RedisClient;
  keys: KeyLayout;
  clock: Clock;
  termsTtl: number;
  tierOf(id: string | undefined): TierParams;
  /** True while terms may be trusted: the ledger usable, the subscriber subscribed, script calls answering. */
  trusted(): boolean;
}

interface Terms {
  open: boolean;
  until: number;
}

export function createAdmission({ client, keys, clock, termsTtl, tierOf, trusted }: AdmissionOptions): Admission {
  const terms = new Map<string, Terms>();
  const termsReading = new Set<string>();
  let termsEpoch = 0;
  const termsUsable = () => trusted() && client.status === 'ready';

  function readTerms(accountId: string): void {
    if (termsTtl <= 0 || termsReading.has(accountId) || !termsUsable()) return;
    termsReading.add(accountId);
    const epoch = termsEpoch;
    client.hmget(keys.acct(accountId).acct, 'id', 'tier', 'cap').then(
      ([id, tier, cap]) => {
        termsReading.delete(accountId);
        if (epoch !== termsEpoch || !termsUsable() || (!id && !tier)) return;
        if (terms.size >= 100_000) terms.clear();
        terms.set(accountId, { open: !tierOf(tier ?? undefined).hardCap && (cap === null || cap === ''), until: clock.now() + termsTtl });
      },
      () => termsReading.delete(accountId),
    );
  }

  return {
    admitsLocally(accountId, now) {
      const t = terms.get(accountId);
      if (t === undefined || t.until <= now) {
        readTerms(accountId);
        return false;
      }
      return t.open && termsUsable();
    },
    isOpen(accountId) {
      const t = terms.get(accountId);
      return t !== undefined && t.open && t.until > clock.now() && termsUsable();
    },
    forget(accountId) {
      termsEpoch++;
      if (accountId === undefined) terms.clear();
      else terms.delete(accountId);
    },
  };
}
