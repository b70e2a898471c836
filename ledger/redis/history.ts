// The usage history and receipts in Redis: read here, written by the charging scripts
// (ledger/scripts/lib/usage-history.lua) from what a settle entry carries (settleReceipt).

import { toLedgerError } from '../errors.js';
import { checkAccountId } from '../inputs.js';
import type { Modality } from '../../pricing/types.js';
import type { Ledger, SettleInput } from '../types.js';
import { parseBucket, type Receipt, type ReceiptPayload } from '../usage-history.js';
import type { LedgerContext } from './context.js';

export type HistoryApi = Pick<Ledger, 'historyBuckets' | 'receipts'>;

export function createHistory(ctx: LedgerContext): HistoryApi {
  const { client, keys, guard, script } = ctx;
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
        return fields && fields.nm !== undefined ? parseBucket(fields) : null;
      });
    },

    async receipts(accountId, q) {
      checkAccountId(accountId);
      const k = keys.acct(accountId);
      // Newest first. A receipt's id is "TIME-NUMBER", NUMBER counting the account's receipts;
      // a cursor is the previous page's last id, and the page goes on after its NUMBER
      // (scripts/receipts.lua reads it in one step).
      const after = q.cursor ? q.cursor.slice(q.cursor.indexOf('-') + 1) : '';
      const [rq, start, items] = (await guard(() => script('receipts', [k.state, k.rc], [after, q.limit + 1]))) as [number, number, string[]];
      const receipts = items.slice(0, q.limit).map((item, j) => parseReceipt(item, rq - start - j));
      return { receipts, next: items.length > q.limit ? receipts[receipts.length - 1]!.id : null };
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

/**
 * A receipt from its list item "TIME<tab>MICRO<tab>PAYLOAD" (lib/usage-history.lua), the
 * account's receipt number `seq`: the settle's JSON, or an expired reservation's
 * "x<tab>requestId<tab>modality".
 */
export function parseReceipt(item: string, seq: number): Receipt {
  const a = item.indexOf('\t');
  const b = item.indexOf('\t', a + 1);
  const time = Number(item.slice(0, a));
  const id = `${time}-${seq}`;
  const micro = Number(item.slice(a + 1, b));
  const payload = item.slice(b + 1);
  if (payload.startsWith('{')) {
    const d = JSON.parse(payload) as ReceiptPayload;
    return { id, requestId: d.requestId, time, provider: d.provider, model: d.model, modality: d.modality, units: d.units ?? {}, micro, outcome: d.outcome, byok: d.byok, keyId: d.keyId };
  }
  const [, requestId, modality] = payload.split('\t');
  return { id, requestId: requestId ?? '', time, provider: null, model: null, modality: (modality ?? 'llm') as Modality, units: {}, micro, outcome: 'expired', byok: false, keyId: null };
}
