// The per-account cap on open realtime sessions, across replicas: each session holds a slot in
// the ledger (openSession) from its handshake until it ends, as a lease this process renews in
// one ledger call per account from the realtime sweep, never per frame. A process that dies
// stops renewing: its slots lapse one lease later (docs/realtime.md, "The session cap").

import type { Logger } from 'pino';
import type { Ledger, SessionSlot } from '../../ledger/types.js';

export interface SessionSlots {
  /**
   * A slot under `cap` for this session, or the refusal with the account's open count. Refused
   * without asking the ledger when this process alone fills the cap. Rejects when the ledger fails.
   */
  take(accountId: string, sessionId: string, cap: number): Promise<SessionSlot>;
  /** The session ended, or its handshake failed after `take`: its slot is free. Idempotent. */
  release(accountId: string, sessionId: string): void;
  /** From the sweep: renews every slot held here once a third of the lease has passed. */
  sweep(now: number): void;
  /** The longest the sweep may wait between calls for the leases to stay renewed in time. */
  readonly sweepWithinMs: number;
  /** Resolves when every release in flight has reached the ledger (or failed): the drain waits. */
  released(): Promise<void>;
}

export function createSessionSlots(deps: { ledger: Ledger; logger: Logger; leaseMs: number; now(): number }): SessionSlots {
  const { ledger, logger, leaseMs } = deps;
  /** Sessions holding a slot: id -> account. */
  const held = new Map<string, string>();
  /** `held` counted per account: the fast refusal. */
  const perAccount = new Map<string, number>();
  /** Renewals in flight per account: a release waits for one, which may list it (it must land last). */
  const renewing = new Map<string, Promise<void>>();
  const closing = new Set<Promise<void>>();
  // Every third of the lease: two renewals may fail before a slot lapses.
  const renewEvery = Math.floor(leaseMs / 3);
  let lastRenew = deps.now();

  function renew(): void {
    const byAccount = new Map<string, string[]>();
    for (const [sessionId, accountId] of held) {
      const ids = byAccount.get(accountId);
      if (ids) ids.push(sessionId);
      else byAccount.set(accountId, [sessionId]);
    }
    for (const [accountId, ids] of byAccount) {
      if (renewing.has(accountId)) continue;
      const p = ledger
        .renewSessions(accountId, ids, leaseMs)
        .catch((err: unknown) => logger.warn({ err, accountId, sessions: ids.length }, 'could not renew realtime session leases: they lapse unless a later renewal lands'))
        .finally(() => renewing.delete(accountId));
      renewing.set(accountId, p);
    }
  }

  return {
    sweepWithinMs: Math.floor(leaseMs / 6),
    async take(accountId, sessionId, cap) {
      // Each session of this process holds a slot: when they alone fill the cap, the ledger would say no.
      const local = perAccount.get(accountId) ?? 0;
      if (local >= cap) return { ok: false, open: local };
      const slot = await ledger.openSession(accountId, sessionId, cap, leaseMs);
      if (slot.ok) {
        held.set(sessionId, accountId);
        perAccount.set(accountId, (perAccount.get(accountId) ?? 0) + 1);
      }
      return slot;
    },
    release(accountId, sessionId) {
      if (!held.delete(sessionId)) return;
      const n = (perAccount.get(accountId) ?? 1) - 1;
      if (n <= 0) perAccount.delete(accountId);
      else perAccount.set(accountId, n);
      const close = () =>
        ledger.closeSession(accountId, sessionId).catch((err: unknown) => {
          logger.warn({ err, accountId, session: sessionId }, 'could not release a realtime session slot: it lapses with its lease');
        });
      const inFlight = renewing.get(accountId);
      const p = inFlight ? inFlight.then(close) : close();
      closing.add(p);
      void p.finally(() => closing.delete(p));
    },
    sweep(now) {
      if (now - lastRenew < renewEvery) return;
      lastRenew = now;
      renew();
    },
    async released() {
      await Promise.all(closing);
    },
  };
}
