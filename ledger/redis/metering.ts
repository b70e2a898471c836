// The request path in Redis: reserve (locally admitted, or batched to reserve.lua), settle
// (batched to settle.lua, journaled when Redis is out), usage and history.

import { snapshot, type PeriodState, type TierParams } from '../account-state.js';
import { createLedgerError } from '../errors.js';
import { checkAccountId, checkReserve, checkSettle } from '../inputs.js';
import type { Ledger, PeriodSummary, ReserveResult, SettleResult, UsageSnapshot } from '../types.js';
import type { Admission } from './admission.js';
import type { Batcher, HoldRecord } from './batcher.js';
import type { LedgerContext } from './context.js';
import { parseHistory, stateFromHash } from './decode.js';
import { MARKER_MARGIN_MS, type Durability } from './durability.js';
import type { Zones } from './zones.js';

export interface MeteringApi extends Pick<Ledger, 'reserve' | 'settle' | 'usage'> {
  history(accountId: string): Promise<PeriodSummary[]>;
}

export interface MeteringOptions {
  ctx: LedgerContext;
  batcher: Batcher;
  admission: Admission;
  durability: Durability;
  /** After a script recorded an alert: the account joins the deliverer's pending index. */
  alertPending(accountId: string): void;
  settleDelay: number;
  openSettleDelay: number;
  zones: Zones;
  histArg: string;
}

const ADMITTED_LOCALLY: ReserveResult = Object.freeze({ ok: true, local: true });
const ADMITTED: ReserveResult = Object.freeze({ ok: true });
const ADMITTED_OPEN: ReserveResult = Object.freeze({ ok: true, open: true });
const ignore = () => {};

export function createMetering({ ctx, batcher, admission, durability, alertPending, settleDelay, openSettleDelay, zones, histArg }: MeteringOptions): MeteringApi {
  const { client, keys, clock, guard, script, tierArg, idemTtl, tierOf } = ctx;
  const idemArg = String(idemTtl);
  const { usable, unusable } = durability;

  async function usageState(accountId: string): Promise<{ tier: TierParams; st: PeriodState }> {
    checkAccountId(accountId);
    const k = keys.acct(accountId);
    await zones.ready(accountId);
    const now = clock.now();
    const reply = await guard(() => script('usage', keys.markKeys(k, now, zones.get(accountId) ?? 'UTC'), [now, tierArg, idemArg, histArg]));
    if (reply.length === 0) throw createLedgerError('unknown_account', `no account ${accountId}`);
    const fields: Record<string, string> = {};
    for (let i = 1; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
    if (fields['!alerted']) alertPending(accountId); // the purge charged a floor that crossed a threshold
    return { tier: tierOf(String(reply[0])), st: stateFromHash(fields) };
  }

  return {
    async reserve(input) {
      checkReserve(input);
      if (!usable()) throw unusable();
      // The request's marker must outlive its reservation, so a late duplicate holds nothing.
      if (input.ttlMs + MARKER_MARGIN_MS > idemTtl) {
        throw createLedgerError('invalid_input', `reserve: ttlMs ${input.ttlMs} is too long for the idempotency ttl of ${idemTtl} ms (at most ${idemTtl - MARKER_MARGIN_MS})`);
      }
      // The batch names the account's daily bucket: its zone, known after a first read.
      const z = zones.ready(input.accountId);
      if (z) await z;
      const now = clock.now();
      if (admission.admitsLocally(input.accountId, now)) {
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
          batcher.settle(input.accountId, rec, openSettleDelay).catch(ignore);
        }
        return ADMITTED_LOCALLY;
      }
      let reply: Awaited<ReturnType<Batcher['reserve']>>;
      try {
        reply = await batcher.reserve(input.accountId, input);
      } catch (err) {
        // Given up on (the request answers 503) yet it may have reached Redis (a timeout, a
        // master lost mid-call): release it when Redis answers again, or it would expire at its
        // floor with no provider call behind it. Its marker then makes the reserve, should it
        // still arrive, hold nothing.
        if (durability.outage(err) === 'maybe') void durability.abandon({ abandoned: true, accountId: input.accountId, requestId: input.requestId, modality: input.modality ?? 'llm' });
        throw err;
      }
      const [code, used, limit, open] = reply;
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

    async settle(input): Promise<SettleResult> {
      checkSettle(input);
      if (!usable()) return durability.journaled(input, false, unusable());
      const z = zones.ready(input.accountId);
      if (z) {
        try {
          await z;
        } catch (err) {
          if (durability.outage(err)) return durability.journaled(input, false, err);
          throw err;
        }
      }
      // An account admitted locally releases no hold that could refuse anyone: it may wait longer.
      const delay = admission.isOpen(input.accountId) ? openSettleDelay : settleDelay;
      let applied: number, accrued: number, writtenOff: number;
      try {
        [applied, accrued, writtenOff] = await batcher.settle(input.accountId, input, delay);
      } catch (err) {
        const why = durability.outage(err);
        if (why) return durability.journaled(input, why === 'maybe', err);
        throw err;
      }
      if (Number(applied) === -1) throw createLedgerError('unknown_account', `no account ${input.accountId}`);
      // Once per overage episode (settle.lua's mark): tell the flusher. The flusher's
      // periodic full sweep covers a crash between the script and this line.
      if (Number(accrued) === 1) await guard(() => client.sadd(keys.pending, input.accountId));
      const wo = Number(writtenOff ?? 0);
      return wo > 0 ? { applied: Number(applied) === 1, writtenOffMicro: wo } : { applied: Number(applied) === 1 };
    },

    async usage(accountId): Promise<UsageSnapshot> {
      const { tier, st } = await usageState(accountId);
      return snapshot(accountId, tier, st);
    },

    async history(accountId) {
      checkAccountId(accountId);
      const rows = await guard(() => client.lrange(keys.acct(accountId).hist, 0, -1));
      return rows.map(parseHistory);
    },
  };
}
