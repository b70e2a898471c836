// The usage history and receipts in Redis: read here, written by the charging scripts
// (ledger/scripts/lib/usage-history.lua) from what a settle entry carries (settleReceipt).

import { toLedgerError } from '../errors.js';
import { checkAccountId } from '../inputs.js';
import type { Modality } from '../../pricing/types.js';
import type { Ledger, SettleInput } from '../types.js';
import { parseBucket, type Receipt, type ReceiptPayload } from '../usage-history.js';
import type { LedgerContext } from './context.js';
import { pairs } from './decode.js';

export type HistoryApi = Pick<Ledger, 'historyBuckets' | 'receipts'>;

export function createHistory(ctx: LedgerContext): HistoryApi {
  const { client, keys, guard } = ctx;
  return {
    async historyBuckets(accountId, kind, ids) {
      checkAccountId(accountId);
      if (ids.length === 0) return [];
      const k = keys.acct(accountId);
      const base = kind === 'hour' ? k.hour : k.day;
      // One slot (the account's tag): one pipeline, also on a cluster.
      const rows = await guard(async () => {
        const p = client.pipeline();
        for (const id of ids) p.hgetall(base + id);
        return (await p.exec()) ?? [];
      });
      return rows.map(([err, h]) => {
        if (err) throw toLedgerError(err);
        const fields = h as Record<string, string>;
        return fields && fields.n !== undefined ? parseBucket(fields) : null;
      });
    },

    async receipts(accountId, q) {
      checkAccountId(accountId);
      // Newest first; a cursor is the id of the previous page's last receipt (exclusive).
      const end = q.cursor ? `(${q.cursor}` : '+';
      const rows = (await guard(() => client.xrevrange(keys.acct(accountId).ev, end, '-', 'COUNT', q.limit + 1))) as [string, string[]][];
      const receipts = rows.slice(0, q.limit).map(([id, flat]) => parseReceipt(id, pairs(flat)));
      return { receipts, next: rows.length > q.limit ? receipts[receipts.length - 1]!.id : null };
    },
  };
}

/** A settle's receipt as settle.lua takes it (JSON it passes through unparsed), or null for none. */
export function settleReceipt(input: SettleInput): { payload: string; priorMicro: number } | null {
  if (input.receipt === false) return null;
  const session = input.receipt;
  const payload: ReceiptPayload = {
    requestId: session ? session.requestId : input.requestId,
    provider: input.provider,
    model: input.model ?? null,
    modality: input.modality,
    units: session ? session.units : input.units,
    outcome: input.outcome,
    byok: input.byok,
    keyId: input.keyId ?? null,
  };
  return { payload: JSON.stringify(payload), priorMicro: session ? session.priorMicro : 0 };
}

/** A receipt from its stream entry: t (ms) and c (µcr) written by the script, d the payload; or an expired reservation's r, m, o. */
export function parseReceipt(id: string, h: Record<string, string>): Receipt {
  if (h.d) {
    const d = JSON.parse(h.d) as ReceiptPayload;
    return { id, requestId: d.requestId, time: Number(h.t), provider: d.provider, model: d.model, modality: d.modality, units: d.units ?? {}, micro: Number(h.c), outcome: d.outcome, byok: d.byok, keyId: d.keyId };
  }
  return { id, requestId: h.r ?? '', time: Number(h.t), provider: null, model: null, modality: (h.m ?? 'llm') as Modality, units: {}, micro: Number(h.c), outcome: h.o ?? 'expired', byok: false, keyId: null };
}
