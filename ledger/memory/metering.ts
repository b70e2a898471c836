// The request path in memory: reserve, settle and usage, each first catching the account up
// (lazy period rollover, expired reservations charged their floor, idempotency markers swept),
// as every script does.

import { applySettle, chargeable, reserveVerdict, rollover, snapshot } from '../account-state.js';
import { checkReserve, checkSettle } from '../inputs.js';
import type { Ledger, ReserveResult, SettleResult } from '../types.js';
import type { Alerts } from './alerts.js';
import type { Entry, MemoryContext } from './context.js';
import type { HistoryWriter } from './history.js';

export type MeteringApi = Pick<Ledger, 'reserve' | 'settle' | 'usage'>;

const OPEN: ReserveResult = Object.freeze({ ok: true, open: true });

export function createMetering(ctx: MemoryContext, history: HistoryWriter, alerts: Alerts): MeteringApi {
  const { clock, idemTtl, accounts, pending, required, tierOf, closePeriod } = ctx;
  const { charge, receipt } = history;
  const alertCheck = alerts.check;

  /** Nothing bounds the account's spending: no hard cap, no spend limit (ReserveResult `open`). */
  const isOpen = (e: Entry): boolean => !tierOf(e).hardCap && (e.account.overageCapMicro ?? null) === null;

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
  function marker(e: Entry, rid: string, now: number): 'R' | 'S' | 'X' | null {
    const m = e.markers.get(rid);
    return m && m.expires > now ? m.kind : null;
  }
  function setMarker(e: Entry, rid: string, kind: 'R' | 'S' | 'X', expires: number, charged?: number): void {
    e.markers.delete(rid); // keep the map ordered by insertion for the sweep
    e.markers.set(rid, charged === undefined ? { kind, expires } : { kind, expires, charged });
  }

  return {
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
  };
}
