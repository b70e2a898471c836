// The dashboard's CSV downloads: history buckets (the contract's columns: start, modality, model,
// credits, requests, then the units) and receipts. Credits exact to 6 places, as in the JSON API.

import { fmt } from '../metering/settlement.js';
import type { UsageBucket } from './charts.js';
import type { ReceiptView } from './source.js';

const UNITS = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'chars', 'audioMs', 'queries'];
const field = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** A cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote. */
const cell = (s: string) => field(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

export function historyCsv(buckets: UsageBucket[]): string {
  const lines = [['start', 'modality', 'model', 'credits', 'requests', ...UNITS].join(',')];
  for (const b of buckets) {
    for (const g of b.groups) {
      lines.push([new Date(b.start).toISOString(), cell(g.modality), cell(g.model), fmt(g.micro), String(g.requests), ...UNITS.map((u) => String(g.units[u] ?? 0))].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

export function receiptsCsv(receipts: ReceiptView[]): string {
  const lines = [['time', 'requestId', 'provider', 'model', 'modality', 'credits', 'outcome', 'byok', ...UNITS].join(',')];
  for (const r of receipts) {
    lines.push(
      [new Date(r.time).toISOString(), cell(r.requestId), cell(r.provider ?? ''), cell(r.model ?? ''), cell(r.modality), fmt(r.micro), cell(r.outcome), String(r.byok), ...UNITS.map((u) => String(r.units[u] ?? 0))].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
