// The metering core shared by HTTP requests (proxy/pipeline.ts) and realtime sessions
// (proxy/realtime/session.ts): reserve with its refusals mapped to tollgate errors, settle with
// retry (idempotent by request id, so a ledger blip loses nothing), the `settled` log line and
// event, and the settle-once guard.

import type { Logger } from 'pino';
import type { Ledger, ReserveInput, ReserveResult, SettleInput } from '../../ledger/types.js';
import { createError, type TollgateError } from '../errors.js';
import { fastLine } from '../logger.js';
import type { ProxyEvents, SettledRecord } from '../pipeline.js';

export interface SettlementDeps {
  ledger: Ledger;
  logger: Logger;
  events?: ProxyEvents | undefined;
}

export type Reserved =
  | { ok: true; local?: true; open?: true }
  | { ok: false; error: TollgateError; reason: 'insufficient_credits' | 'overage_cap' | 'unknown_account' | 'ledger_unavailable' };

export interface Settlement {
  /**
   * Reserve `input.microCredits`. A refusal comes back as the error to answer with; `what`
   * names the thing reserved for its message ("this request", "this session").
   */
  reserve(input: ReserveInput, what?: string): Promise<Reserved>;
  /**
   * Logs the `settled` line (`line` adds fields to it), emits the `settled` event, and writes
   * the settlement with retries. Resolves once written (or given up on, logged with all it
   * takes to replay it). Call once per request id: see `once`. `line` false: no line and no
   * event (a session releasing a spare reservation with a zero settle). `receipt`: the
   * request's receipt, as SettleInput.receipt (absent: this settle's own figures).
   */
  settle(rec: SettledRecord, line?: Record<string, unknown> | false, receipt?: SettleInput['receipt']): Promise<void>;
}

export function createSettlement(deps: SettlementDeps): Settlement {
  const { ledger, logger, events } = deps;
  // The `settled` line holds ids, codes and counts, never a secret, so it skips pino's
  // redaction and per-key serialisation (fastLine).
  const settledLine = fastLine(logger, 'settled');

  async function reserve(input: ReserveInput, what = 'this request'): Promise<Reserved> {
    const t0 = performance.now();
    let r: ReserveResult;
    try {
      r = await ledger.reserve(input);
      // An account admitted locally made no ledger call (RedisLedger: local admission).
      if (!(r.ok && r.local)) events?.ledgerCall?.('reserve', (performance.now() - t0) / 1000, true);
    } catch (err) {
      events?.ledgerCall?.('reserve', (performance.now() - t0) / 1000, false);
      return { ok: false, reason: 'ledger_unavailable', error: createError('ledger_unavailable', 'the ledger is unavailable', err) };
    }
    if (r.ok) return r;
    if (r.reason === 'overage_cap') return { ok: false, reason: r.reason, error: createError('spend_limit_reached', 'this account has reached its overage spend limit for the period') };
    if (r.reason === 'unknown_account') return { ok: false, reason: r.reason, error: createError('invalid_api_key', 'the account of this key no longer exists') };
    return {
      ok: false,
      reason: r.reason,
      error: createError('insufficient_credits', `insufficient credits: ${fmt(r.usedMicro)} of ${fmt(r.limitMicro)} used this period; ${what} needs up to ${fmt(input.microCredits)}`),
    };
  }

  /** Settles, retrying while the ledger is unreachable, so a blip loses nothing. */
  async function settleWithRetry(rec: SettledRecord, receipt: SettleInput['receipt']): Promise<void> {
    // Model, key id and units go with every settle (BYOK or not): the usage history and the
    // receipt are written by the same ledger call (ledger/usage-history.ts).
    const input: SettleInput = {
      accountId: rec.accountId,
      requestId: rec.requestId,
      modality: rec.modality,
      provider: rec.provider,
      byok: rec.byok,
      microCredits: rec.microCredits,
      units: rec.units,
      outcome: rec.outcome,
    };
    if (rec.model !== undefined) input.model = rec.model;
    if (rec.keyId !== undefined) input.keyId = rec.keyId;
    if (receipt !== undefined) input.receipt = receipt;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      try {
        const r = await ledger.settle(input);
        events?.ledgerCall?.('settle', (performance.now() - t0) / 1000, true);
        if (r.writtenOffMicro) {
          // The cap held: what the reservation did not cover past it is the operator's loss.
          logger.warn({ accountId: rec.accountId, requestId: rec.requestId, provider: rec.provider, modality: rec.modality, writtenOffMicro: r.writtenOffMicro }, 'charge past the cap written off');
          events?.writtenOff?.(rec, r.writtenOffMicro);
        }
        return;
      } catch (err) {
        events?.ledgerCall?.('settle', (performance.now() - t0) / 1000, false);
        if (attempt >= 8) {
          // Settle is idempotent by requestId: this line has all it takes to replay it.
          logger.error({ settlement: input, err }, 'settlement failed after retries');
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5_000)));
      }
    }
  }

  return {
    reserve,
    settle(rec, line, receipt) {
      const written = settleWithRetry(rec, receipt);
      if (line === false) return written;
      const out = rec as SettledRecord & { credits?: string };
      out.credits = fmt(rec.microCredits);
      settledLine(line ? { ...out, ...line } : out);
      events?.settled?.(rec);
      return written;
    },
  };
}

/** `fn` runs on the first call only; later calls do nothing (settle exactly once). */
export function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let done = false;
  return (...args: A) => {
    if (done) return;
    done = true;
    fn(...args);
  };
}

/** µcr as a decimal credit string, exact to 6 places. */
export function fmt(micro: number): string {
  const neg = micro < 0;
  const a = Math.abs(micro);
  const whole = Math.floor(a / 1_000_000);
  const frac = String(a % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}
