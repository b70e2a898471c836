// The ledger's durability (docs/reliability.md): the epoch guard, the guard every call goes
// through, and the journal where settles that cannot reach Redis wait to be replayed.
//
// The epoch guard: until the epoch has been checked after a (re)connect, and while it is lost,
// every call refuses with ledger_unavailable (settles go to the journal), so nothing is served
// or written on a Redis that came back empty. The journal: a settle that cannot reach Redis
// waits on disk (ledger/journal.ts) and is replayed, exactly once, when Redis answers again and
// the epoch checks out.

import type { RedisClient } from './connection.js';
import type { Logger } from 'pino';
import { createEpochGuard, epochKeys, type EpochGuard } from '../epoch.js';
import { createLedgerError, LedgerError, toLedgerError } from '../errors.js';
import { openJournal, type AbandonedReserve, type Journal } from '../journal.js';
import type { Clock, SettleInput, SettleResult } from '../types.js';
import type { Batcher } from './batcher.js';
import type { KeyLayout } from './keys.js';

/** A request's idempotency marker outlives its reservation by at least this. */
export const MARKER_MARGIN_MS = 60_000;

export interface Durability {
  /** False while the ledger may not be the one this process knew: reconnecting, or lost. */
  usable(): boolean;
  /** The error a call gets while the ledger is not usable. */
  unusable(): LedgerError;
  /** Every Redis call goes through here: transport failures become `ledger_unavailable`. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
  /** 'sure': Redis refused it unapplied (not connected, loading); 'maybe': it may have been applied; null: not an outage. */
  outage(err: unknown): 'sure' | 'maybe' | null;
  /** Journals a settle that could not reach Redis (or throws `err` when there is no journal). */
  journaled(input: SettleInput, maybeSent: boolean, err: unknown): Promise<SettleResult>;
  /**
   * A reserve given up on that may have reached Redis (`maybeSent`): journals its release, so
   * that when Redis answers again the reservation goes at no charge instead of expiring at its
   * floor. Never rejects (without a journal, or with a full one, the floor stays: logged).
   */
  abandon(entry: AbandonedReserve): Promise<void>;
  /** Replays the journal now; resolves with the count settled. */
  replayJournal(): Promise<number>;
  health(): { ready: boolean; reason?: string; journaled: number };
  /** Checks the epoch on every reconnect and every checkMs, and once now. */
  start(): void;
  close(): Promise<void>;
}

export interface DurabilityOptions {
  client: RedisClient;
  keys: KeyLayout;
  url: string;
  clock: Clock;
  logger: Logger;
  batcher: Batcher;
  /** Reads the account's zone when not known yet (a replayed settle names its daily bucket: zones.ts). */
  zoneReady?(accountId: string): Promise<void> | undefined;
  /** The journal's safe window: the idempotency ttl less the marker margin. */
  idemTtl: number;
  journal?: { dir: string; maxBytes: number };
  epoch?: { checkMs?: number; file?: string };
}

/** Checks the epoch (rejects as a LedgerError when Redis does not answer) and opens the journal. */
export async function openDurability(o: DurabilityOptions): Promise<Durability> {
  const { client, keys, clock, logger, batcher } = o;
  const epochGuard: EpochGuard | undefined = o.epoch
    ? await createEpochGuard({ client, keyPrefix: keys.prefix, keys: epochKeys(client, keys.prefix), url: o.url, file: o.epoch.file, logger, now: () => clock.now() })
    : undefined;
  let verified = true;
  if (epochGuard) {
    try {
      verified = await epochGuard.check();
    } catch (err) {
      throw toLedgerError(err);
    }
  }
  const usable = () => verified && epochGuard?.lost() === undefined;
  const unusable = () => createLedgerError('ledger_unavailable', epochGuard?.lost() ?? 'the ledger is reconnecting');
  const journal: Journal | undefined = o.journal
    ? await openJournal({ ...o.journal, clock, logger, safeWindowMs: o.idemTtl - MARKER_MARGIN_MS })
    : undefined;
  let closed = false;
  let epochTimer: NodeJS.Timeout | undefined;

  async function replayJournal(): Promise<number> {
    if (!journal || !usable() || client.status !== 'ready') return 0;
    return journal.replay(async (inputs) => {
      if (!usable()) throw unusable();
      return Promise.all(
        inputs.map((input) =>
          (o.zoneReady?.(input.accountId) ?? Promise.resolve()).then(() => batcher.settle(input.accountId, input, 0)).then(
            ([applied, accrued]) => {
              if (Number(applied) === -1) logger.error({ settlement: input }, 'journaled settle of an account that no longer exists: dropped');
              if (Number(accrued) === 1) client.sadd(keys.pending, input.accountId).catch(() => {});
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

  return {
    usable,
    unusable,
    async guard<T>(fn: () => Promise<T>): Promise<T> {
      if (!usable()) throw unusable();
      try {
        return await fn();
      } catch (err) {
        throw toLedgerError(err);
      }
    },
    outage(err) {
      if (!(err instanceof LedgerError) || err.code !== 'ledger_unavailable') return null;
      const cause = err.cause as { name?: string; message?: string } | undefined;
      const msg = String(cause?.message ?? err.message);
      if (/enableOfflineQueue|^LOADING|reconnecting|came back empty|has epoch/.test(msg)) return 'sure';
      if (cause?.name === 'ReplyError' && !/^(BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN)/.test(msg)) return null;
      return 'maybe';
    },
    async journaled(input, maybeSent, err) {
      if (!journal) throw err instanceof LedgerError ? err : toLedgerError(err);
      try {
        await journal.append(input, maybeSent);
      } catch (e) {
        throw createLedgerError('ledger_unavailable', `the ledger is unavailable and the journal refused the settle: ${(e as Error).message}`, e);
      }
      if (journal.size() === 1 || journal.size() % 100 === 0) logger.warn({ waiting: journal.size(), dir: journal.dir }, 'the ledger is unreachable: settles wait in the journal');
      return { applied: false, journaled: true };
    },
    async abandon(entry) {
      if (!journal) {
        logger.warn({ accountId: entry.accountId, requestId: entry.requestId }, 'a reserve given up on may hold a reservation until it expires at its floor (no journal to release it)');
        return;
      }
      try {
        await journal.append(entry, true);
      } catch (err) {
        logger.warn({ err, accountId: entry.accountId, requestId: entry.requestId }, 'the journal refused the release of a reserve given up on: it may expire at its floor');
      }
    },
    replayJournal,
    health() {
      return { ready: usable(), reason: epochGuard?.lost() ?? (verified ? undefined : 'reconnecting'), journaled: journal?.size() ?? 0 };
    },
    start() {
      client.on('ready', () => void verify());
      client.on('close', () => {
        if (epochGuard) verified = false;
      });
      epochTimer = epochGuard || journal ? setInterval(() => void verify(), o.epoch?.checkMs ?? 5_000) : undefined;
      epochTimer?.unref();
      void verify();
    },
    async close() {
      closed = true;
      clearInterval(epochTimer);
      await journal?.close();
    },
  };
}
