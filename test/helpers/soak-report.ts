// Test helper for the chaos soak: sets the providers' bill beside tollgate's charges (its
// `settled` log lines, per request) and the ledger (per account), and works out the figures the
// soak asserts and prints: mismatch outside the crash window, the window's loss, caps, settle-once.

import type { BillLine, SoakUnits } from './soak-providers.js';
import type { SoakAccount, SoakRequest } from './soak-plan.js';
import type { ClientResult } from './soak-client.js';

export interface Settled {
  proc: string;
  requestId: string;
  microCredits: number;
  byok: boolean;
  outcome: string;
  units: SoakUnits;
}

export interface Sent {
  q: SoakRequest;
  proc: string;
  r: ClientResult;
}

export interface LedgerUsage {
  usedMicro: number;
  limitMicro: number;
  requestCount: number;
  reservedMicro: number;
  byokLlm: { inputTokens: number; outputTokens: number };
}

export interface Mismatch {
  id: string;
  kind: string;
  fault: string;
  proc: string;
  delivered: number;
  charged: number;
  settles: number;
  outcome?: string;
}

export interface AccountFigures {
  account: SoakAccount;
  sent: number;
  delivered: number;
  deliveredOutside: number;
  chargedOutside: number;
  used: number;
  limit: number;
  reserved: number;
  requestCount: number;
  settledOutside: number;
  window: number;
  deliveredWindow: number;
  /** What the ledger holds for the window's requests: used − what it holds for the others. */
  ledgerWindow: number;
  /** The least the window must have been charged: the input the provider was sent (TTS/STT: all of it). */
  floorWindow: number;
  byokProvider: { inputTokens: number; outputTokens: number };
  byokCharged: { inputTokens: number; outputTokens: number };
  /** The same with the crash window's settled lines. */
  byokChargedAll: { inputTokens: number; outputTokens: number };
  byokLedger: { inputTokens: number; outputTokens: number };
}

export interface SoakFigures {
  accounts: AccountFigures[];
  /** Requests outside the crash window whose charge is not what the provider billed (estimated ones excepted). */
  mismatches: Mismatch[];
  /** Settled more than once, or received by a provider and never settled (outside the window). */
  settleErrors: Mismatch[];
  /** OpenAI streams cut before their usage chunk: input is the documented estimate; output must be exact. */
  estimated: { count: number; delivered: number; charged: number; outputWrong: Mismatch[] };
}

/** OpenAI streams cut before the usage chunk: tollgate charges an estimated input by design (README, Cut streams). */
export const isEstimated = (q: SoakRequest): boolean => q.kind === 'openai-stream' && (q.fault === 'wait-at-k' || q.fault === 'reset-at-k');

export function soakFigures(
  sent: readonly Sent[],
  bill: ReadonlyMap<string, BillLine>,
  received: ReadonlyMap<string, number>,
  settled: ReadonlyMap<string, Settled[]>,
  usage: ReadonlyMap<string, LedgerUsage>,
  window: ReadonlySet<string>,
  accounts: readonly SoakAccount[],
): SoakFigures {
  const mismatches: Mismatch[] = [];
  const settleErrors: Mismatch[] = [];
  const estimated = { count: 0, delivered: 0, charged: 0, outputWrong: [] as Mismatch[] };
  const per = new Map<string, AccountFigures>();
  for (const a of accounts) {
    const u = usage.get(a.id)!;
    per.set(a.id, {
      account: a, sent: 0, delivered: 0, deliveredOutside: 0, chargedOutside: 0,
      used: u.usedMicro, limit: u.limitMicro, reserved: u.reservedMicro, requestCount: u.requestCount,
      settledOutside: 0, window: 0, deliveredWindow: 0, ledgerWindow: 0, floorWindow: 0,
      byokProvider: { inputTokens: 0, outputTokens: 0 }, byokCharged: { inputTokens: 0, outputTokens: 0 }, byokChargedAll: { inputTokens: 0, outputTokens: 0 }, byokLedger: u.byokLlm,
    });
  }
  for (const s of sent) {
    const f = per.get(s.q.account.id)!;
    const b = bill.get(s.q.id);
    const lines = settled.get(s.q.id) ?? [];
    const delivered = b?.micro ?? 0;
    const charged = lines.reduce((x, l) => x + l.microCredits, 0);
    f.sent++;
    f.delivered += delivered;
    if (b?.byok) {
      f.byokProvider.inputTokens += b.units.inputTokens ?? 0;
      f.byokProvider.outputTokens += b.units.outputTokens ?? 0;
    }
    const row: Mismatch = { id: s.q.id, kind: s.q.kind, fault: s.q.fault, proc: s.proc, delivered, charged, settles: lines.length };
    if (lines[0]) row.outcome = lines[0].outcome;
    for (const l of lines) if (l.byok) {
      f.byokChargedAll.inputTokens += l.units.inputTokens ?? 0;
      f.byokChargedAll.outputTokens += l.units.outputTokens ?? 0;
    }
    if (window.has(s.q.id)) {
      f.window++;
      f.deliveredWindow += delivered;
      f.floorWindow += b?.inputMicro ?? 0;
      continue;
    }
    f.deliveredOutside += delivered;
    f.chargedOutside += charged;
    f.settledOutside += lines.length;
    for (const l of lines) if (l.byok) {
      f.byokCharged.inputTokens += l.units.inputTokens ?? 0;
      f.byokCharged.outputTokens += l.units.outputTokens ?? 0;
    }
    if (lines.length > 1 || (lines.length === 0 && (received.get(s.q.id) ?? 0) > 0)) settleErrors.push(row);
    if (isEstimated(s.q) && !b?.byok) {
      estimated.count++;
      estimated.delivered += delivered;
      estimated.charged += charged;
      if (b && lines[0] && lines[0].units.outputTokens !== b.units.outputTokens) estimated.outputWrong.push(row);
    } else if (charged !== delivered) mismatches.push(row);
  }
  for (const f of per.values()) f.ledgerWindow = f.used - f.chargedOutside;
  return { accounts: [...per.values()], mismatches, settleErrors, estimated };
}

export const credits = (micro: number): string => (micro / 1e6).toFixed(6).replace(/\.?0+$/, '');
