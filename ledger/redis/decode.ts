// Decoding the ledger's Redis replies and hashes into the Ledger API's types.

import type { Modality, TierId } from '../../pricing/types.js';
import { newState, type PeriodState, type RawBucket } from '../account-state.js';
import { keyIdOf } from '../inputs.js';
import type { Account, AccountStatus, ApiKeyInfo, PeriodSummary, UsageUnits } from '../types.js';

export function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

export function parseAccount(h: Record<string, string>): Account | null {
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
  if (h.tz) a.timeZone = h.tz;
  return a;
}

export function keyInfo(hash: string, h: Record<string, string>): ApiKeyInfo | null {
  if (!h.accountId) return null;
  const info: ApiKeyInfo = { id: keyIdOf(hash), accountId: h.accountId, createdAt: Number(h.createdAt ?? 0) };
  if (h.revokedAt) info.revokedAt = Number(h.revokedAt);
  if (h.label !== undefined) info.label = h.label;
  return info;
}

export function parseCarry(s: string | undefined): RawBucket[] {
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
    lr: n('lr'),
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

export function parseHistory(row: string): PeriodSummary {
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
