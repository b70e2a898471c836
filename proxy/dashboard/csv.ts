// The receipts CSV download (the history CSV is the API's own, proxy/admin/usage-history.ts).
// Credits exact to 6 places, as in the JSON API.

import { fmt } from '../metering/settlement.js';
import type { ReceiptView } from './source.js';

/** The units in the order of the history CSV. */
const UNITS = ['chars', 'audioMs', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'queries'];
const field = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** A cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote. */
const cell = (s: string) => field(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

export function receiptsCsv(receipts: ReceiptView[]): string {
  const lines = [['time', 'requestId', 'provider', 'model', 'modality', 'credits', 'outcome', 'byok', ...UNITS].join(',')];
  for (const r of receipts) {
    lines.push(
      [new Date(r.time).toISOString(), cell(r.requestId), cell(r.provider ?? ''), cell(r.model ?? ''), cell(r.modality), fmt(r.micro), cell(r.outcome), String(r.byok), ...UNITS.map((u) => String(r.units[u] ?? 0))].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
