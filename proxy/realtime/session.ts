// One realtime session's money: reserve ahead in steps, a budget the meter spends frame by
// frame, interim settles at an interval, and the final settle exactly once. No sockets here
// (relay.ts has them); the ledger calls go through the metering core shared with HTTP
// (proxy/metering/settlement.ts).
//
// Reservations ("holds") are ledger reservations under ids `sessionId:n`. Spending fills them
// oldest first. An interim settle charges everything spent since the last settle under the
// oldest hold's id (which releases that hold); the holds still open keep going, their part
// already charged noted as `billed` (so the ledger briefly holds that much twice: conservative).
// The final settle charges the remainder under the oldest open hold's id and releases the
// others with zero settles. Every id is settled once; a crash loses at most one interval, and
// the holds then expire as HTTP reservations do (proxy.reservationTtlMs).
//
// The Free cut: when a step is refused, the session reserves exactly what the account has left
// (from `usage()`: remaining − reserved + its own part charged twice) and then its budget is
// final: the meter cuts the frame at the exact unit it covers.

import type { Ledger, Outcome, UsageUnits } from '../../ledger/types.js';
import type { TollgateError } from '../errors.js';
import { fmt, type Settlement } from '../metering/settlement.js';
import type { SettledRecord } from '../pipeline.js';
import type { Budget, CutReason, SessionMeter } from './types.js';

export interface SessionAccountDeps {
  ledger: Ledger;
  settlement: Settlement;
  /** Reservation lifetime (proxy.reservationTtlMs). */
  ttlMs: number;
  /** Interim settle interval (realtime.settleIntervalMs). */
  settleIntervalMs: number;
  now(): number;
}

export interface SessionInfo {
  sessionId: string;
  accountId: string;
  /** The customer key's public id (the session's receipt). */
  keyId?: string;
  provider: string;
  byok: boolean;
  meter: SessionMeter;
}

interface Hold {
  id: string;
  amount: number;
  used: number;
  /** Part of `used` already charged by an interim settle (released with the hold). */
  billed: number;
  at: number;
}

const UNIT_KEYS = ['chars', 'audioMs', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'queries'] as const;

export class SessionAccount {
  /** Passed to the meter; refreshed by `budget()`. */
  private readonly b: { microCredits: number; final: boolean } = { microCredits: 0, final: false };
  private readonly holds: Hold[] = [];
  private seq = 0;
  private consumed = 0;
  private billedMicro = 0;
  private lastUnits: UsageUnits = {};
  private settles = 0;
  private pendingTopUp: Promise<void> | undefined;
  private ticking: Promise<void> | undefined;
  private finished: Promise<void> | undefined;
  private readonly started: number;
  private nextSettleAt: number;
  /** Why the budget is final (the cut's reason). */
  reason: CutReason = 'insufficient_credits';
  /** The ledger refused a step, or the session is BYOK/unbounded: the budget cannot grow. */
  private final = false;

  constructor(
    private readonly deps: SessionAccountDeps,
    readonly info: SessionInfo,
  ) {
    this.started = deps.now();
    this.nextSettleAt = this.started + deps.settleIntervalMs;
    if (info.byok) {
      this.final = true;
      this.b.final = true;
      this.b.microCredits = Infinity;
    }
  }

  /** µcr spent so far (every verdict's µcr). */
  get spentMicro(): number {
    return this.consumed;
  }

  /** The budget to pass to the meter now (one object, updated in place). */
  budget(): Budget {
    if (this.info.byok) return this.b;
    let avail = 0;
    for (const h of this.holds) avail += h.amount - h.used;
    avail -= this.info.meter.held?.() ?? 0;
    this.b.microCredits = avail > 0 ? avail : 0;
    this.b.final = this.final;
    return this.b;
  }

  /** True when the budget runs low and another step should be reserved (not awaited). */
  wantsTopUp(): boolean {
    return !this.final && this.pendingTopUp === undefined && this.budget().microCredits < this.info.meter.stepMicro / 2;
  }

  /** Spend `micro` (a verdict's µcr): fills the holds oldest first. */
  consume(micro: number): void {
    if (micro <= 0) return;
    this.consumed += micro;
    let rest = micro;
    for (const h of this.holds) {
      const room = h.amount - h.used;
      if (room <= 0) continue;
      const take = room < rest ? room : rest;
      h.used += take;
      rest -= take;
      if (rest === 0) return;
    }
    // Usage reported after the fact past every hold: charged at the next settle all the same.
    const last = this.holds[this.holds.length - 1];
    if (last) last.used += rest;
  }

  /**
   * The first step, before the upgrade is answered. Refused (402) only when the account has
   * nothing left at all; a remainder smaller than a step is reserved and the budget is final.
   */
  async open(): Promise<{ ok: true } | { ok: false; error: TollgateError }> {
    if (this.info.byok) return { ok: true };
    const r = await this.reserveStep(this.info.meter.stepMicro);
    if (r === 'ok') return { ok: true };
    if (r === 'error') return { ok: false, error: this.lastError! };
    // Refused: take what is left, if anything.
    const got = await this.reserveRemainder();
    if (got) return { ok: true };
    return { ok: false, error: this.lastError! };
  }

  private lastError: TollgateError | undefined;

  /** Reserve one more step (at least `needMicro`); resolves when done. Never rejects. */
  topUp(needMicro = 0): Promise<void> {
    if (this.final || this.finished) return Promise.resolve();
    this.pendingTopUp ??= (async () => {
      try {
        const r = await this.reserveStep(Math.max(this.info.meter.stepMicro, needMicro));
        if (r === 'refused') await this.reserveRemainder();
      } finally {
        this.pendingTopUp = undefined;
      }
    })();
    return this.pendingTopUp;
  }

  /** 'ok', 'refused' (the cap or spend limit; reason set), or 'error' (ledger unavailable). */
  private async reserveStep(amount: number): Promise<'ok' | 'refused' | 'error'> {
    const id = `${this.info.sessionId}:${this.seq++}`;
    const r = await this.deps.settlement.reserve({ accountId: this.info.accountId, requestId: id, microCredits: amount, ttlMs: this.deps.ttlMs }, 'this session');
    if (r.ok) {
      this.holds.push({ id, amount, used: 0, billed: 0, at: this.deps.now() });
      return 'ok';
    }
    this.lastError = r.error;
    if (r.reason === 'ledger_unavailable') return 'error';
    this.reason = r.reason === 'overage_cap' ? 'spend_limit_reached' : 'insufficient_credits';
    if (r.reason === 'unknown_account') this.setFinal();
    return 'refused';
  }

  /** Reserve exactly what the account has left; the budget is final afterwards. */
  private async reserveRemainder(): Promise<boolean> {
    let left = 0;
    try {
      const u = await this.deps.ledger.usage(this.info.accountId);
      // What this session charged while its holds stay open is held twice: add it back.
      let twice = 0;
      for (const h of this.holds) twice += h.billed;
      if (this.reason === 'spend_limit_reached') {
        const a = await this.deps.ledger.getAccount(this.info.accountId);
        const cap = a?.overageCapMicro ?? 0;
        left = u.limitMicro + cap - u.usedMicro - u.reservedMicro + twice;
      } else left = u.remainingMicro - u.reservedMicro + twice;
    } catch {
      left = 0;
    }
    this.setFinal();
    if (left < 1) return false;
    const r = await this.reserveStep(left);
    this.setFinal();
    return r === 'ok';
  }

  private setFinal(): void {
    this.final = true;
    this.b.final = true;
  }

  /** Interim settle when one is due (called by the relay's sweep). Never rejects. */
  tick(now: number): Promise<void> | undefined {
    if (now < this.nextSettleAt || this.ticking || this.finished) return undefined;
    this.nextSettleAt = now + this.deps.settleIntervalMs;
    this.ticking = this.interim().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async interim(): Promise<void> {
    const totals = this.info.meter.totals();
    const delta = this.consumed - this.billedMicro;
    const units = diffUnits(totals.units, this.lastUnits);
    const stale = this.holds[0] !== undefined && this.deps.now() - this.holds[0].at > this.deps.ttlMs / 2;
    if (delta === 0 && units === undefined && !stale) return;
    const first = this.holds[0];
    // Keep the budget flowing: reserve the next step before the oldest hold is released.
    if (first && !this.final && this.budget().microCredits - (first.amount - first.used) < this.info.meter.stepMicro / 2) await this.topUp();
    if (this.finished) return;
    const id = first ? first.id : `${this.info.sessionId}:${this.seq++}`;
    if (first) this.holds.shift();
    for (const h of this.holds) h.billed = h.used;
    this.billedMicro += delta;
    this.lastUnits = totals.units;
    this.settles++;
    // No receipt: the session gets one, at its final settle.
    await this.deps.settlement.settle(this.record(id, 'ok', delta, units ?? {}, 'interim'), { session: this.info.sessionId, interim: true, seq: this.settles }, false);
  }

  /**
   * The final settle, exactly once: the meter's end charge, the remainder, the spare holds
   * released. Resolves when written. `line` adds fields to the session's `settled` line.
   */
  finish(outcome: Outcome, complete: boolean, line: Record<string, unknown>): Promise<void> {
    this.finished ??= (async () => {
      await this.ticking;
      await this.pendingTopUp;
      let extra = 0;
      try {
        extra = (await this.info.meter.end?.(complete)) ?? 0;
      } catch {
        extra = 0;
      }
      this.consume(extra);
      const totals = this.info.meter.totals();
      const delta = this.consumed - this.billedMicro;
      const units = diffUnits(totals.units, this.lastUnits) ?? {};
      const holds = this.holds.splice(0);
      const id = holds[0]?.id ?? `${this.info.sessionId}:${this.seq++}`;
      this.billedMicro += delta;
      this.settles++;
      const fin: Record<string, unknown> = {
        session: this.info.sessionId,
        final: true,
        seq: this.settles,
        sessionCredits: fmt(this.consumed),
        sessionMicroCredits: this.consumed,
        sessionUnits: totals.units,
        ...line,
      };
      if (totals.reported) fin.reported = totals.reported;
      // The session's one receipt: its id (x-tollgate-request-id of the handshake), its totals.
      const receipt = { requestId: this.info.sessionId, priorMicro: this.info.byok ? 0 : this.consumed - delta, units: { ...totals.units } };
      const writes = [this.deps.settlement.settle(this.record(id, outcome, delta, units, 'final'), fin, receipt)];
      // Spare holds: released with zero settles (no line, no receipt of their own).
      for (const h of holds.slice(1)) writes.push(this.deps.settlement.settle(this.record(h.id, outcome, 0, {}, 'final'), false, false));
      await Promise.all(writes);
    })();
    return this.finished;
  }

  private record(requestId: string, outcome: Outcome, microCredits: number, units: UsageUnits, session: 'interim' | 'final'): SettledRecord {
    const m = this.info.meter;
    const rec: SettledRecord = {
      requestId,
      accountId: this.info.accountId,
      provider: this.info.provider,
      modality: m.modality,
      status: 101,
      outcome,
      byok: this.info.byok,
      microCredits: this.info.byok ? 0 : microCredits,
      units,
      durationMs: this.deps.now() - this.started,
      session,
    };
    if (m.model) rec.model = m.model;
    if (this.info.keyId) rec.keyId = this.info.keyId;
    return rec;
  }
}

/** Units counted since `before`; undefined when nothing changed. */
function diffUnits(now: UsageUnits, before: UsageUnits): UsageUnits | undefined {
  let out: UsageUnits | undefined;
  for (const k of UNIT_KEYS) {
    const d = (now[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) (out ??= {})[k] = d;
  }
  return out;
}
