// Sections shared by the account page (operator) and the customer page: the history charts, the
// top models with their native units, and the recent receipts, all from a HistorySource.

import { html, type SafeHtml } from './html.js';
import { chart, notice, tableWrap } from './layout.js';
import { slotsOf, stackedChart, topModels, type ModelTotal, type UsageBucket } from './charts.js';
import { count, credits, DAY_MS, HOUR_MS, startOfUtcDay, startOfUtcHour, time } from './format.js';
import type { HistorySource, ReceiptView } from './source.js';

export const DAYS = 30;
export const HOURS = 48;

export interface Windows {
  days: number[];
  hours: number[];
  dayRange: { from: number; to: number };
  hourRange: { from: number; to: number };
}

export function windows(now: number): Windows {
  const dayTo = startOfUtcDay(now) + DAY_MS;
  const hourTo = startOfUtcHour(now) + HOUR_MS;
  const dayRange = { from: dayTo - DAYS * DAY_MS, to: dayTo };
  const hourRange = { from: hourTo - HOURS * HOUR_MS, to: hourTo };
  return { days: slotsOf(dayRange.from, dayRange.to, DAY_MS), hours: slotsOf(hourRange.from, hourRange.to, HOUR_MS), dayRange, hourRange };
}

export interface History {
  daily: UsageBucket[];
  hourly: UsageBucket[];
}

export async function readHistory(source: HistorySource, accountId: string, w: Windows): Promise<History> {
  const [daily, hourly] = await Promise.all([source.buckets(accountId, { ...w.dayRange, granularity: 'day' }), source.buckets(accountId, { ...w.hourRange, granularity: 'hour' })]);
  return { daily, hourly };
}

/** The three charts: per day by modality, per day by model, per hour by modality. */
export function historyCharts(h: History, w: Windows, opts: { byModel: boolean }): SafeHtml {
  return html`<section aria-labelledby="h-history"><h2 id="h-history">Usage over time</h2>
${chart(stackedChart({ id: 'c-daily', title: `Credits per day, last ${DAYS} days, by modality`, slotLabel: 'Day', kind: 'bars', slots: w.days, buckets: h.daily, by: 'modality' }))}
${opts.byModel ? chart(stackedChart({ id: 'c-models', title: `Credits per day, last ${DAYS} days, by model`, slotLabel: 'Day', kind: 'bars', slots: w.days, buckets: h.daily, by: 'model' })) : ''}
${chart(stackedChart({ id: 'c-hourly', title: `Credits per hour, last ${HOURS} hours, by modality`, slotLabel: 'Hour', kind: 'lines', slots: w.hours, buckets: h.hourly, by: 'modality' }))}
</section>`;
}

const UNIT_NAMES: Record<string, string> = {
  inputTokens: 'input tokens',
  outputTokens: 'output tokens',
  cacheReadTokens: 'cache-read tokens',
  cacheWriteTokens: 'cache-write tokens',
  chars: 'characters',
  characters: 'characters',
  queries: 'queries',
};

/** Native units in words: "1,000 input tokens, 500 output tokens"; audio in seconds. */
export function unitsText(units: Record<string, number>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(units)) {
    if (!v) continue;
    if (k === 'audioMs') parts.push(`${count(v / 1000)} s of audio`);
    else if (k === 'seconds') parts.push(`${count(v)} s of audio`);
    else parts.push(`${count(v)} ${UNIT_NAMES[k] ?? k}`);
  }
  return parts.join(', ') || '—';
}

export function modelsTable(models: ModelTotal[], caption: string): SafeHtml {
  if (models.length === 0) return notice('No model used in this window.');
  const max = Math.max(...models.map((m) => m.micro), 1);
  return tableWrap(
    caption,
    html`<table data-table="models"><caption>${caption}</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Modality</th><th scope="col">Credits</th><th scope="col">Share</th><th scope="col">Requests</th><th scope="col">Units</th></tr></thead>
<tbody>${models.map(
      (m) => html`<tr><th scope="row">${m.model}</th><td>${m.modality}</td><td class="num">${credits(m.micro)}</td><td><meter min="0" max="${max}" value="${m.micro}" aria-label="${m.model}: share of the top model's credits">${credits(m.micro)}</meter></td><td class="num">${count(m.requests)}</td><td>${unitsText(m.units)}</td></tr>`,
    )}</tbody></table>`,
  );
}

export function topModelsSection(daily: UsageBucket[]): SafeHtml {
  return html`<section aria-labelledby="h-models"><h2 id="h-models">Top models, last ${DAYS} days</h2>${modelsTable(topModels(daily), `Top models by credits, last ${DAYS} days`)}</section>`;
}

export function receiptsTable(receipts: ReceiptView[], opts: { showKey: boolean }): SafeHtml {
  if (receipts.length === 0) return notice('No request yet.');
  return tableWrap(
    'Recent requests',
    html`<table data-table="receipts"><caption>Recent requests, newest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Model</th><th scope="col">Modality</th><th scope="col">Credits</th><th scope="col">Units</th><th scope="col">Provider</th><th scope="col">Outcome</th><th scope="col">Request id</th>${opts.showKey ? html`<th scope="col">Key</th>` : ''}</tr></thead>
<tbody>${receipts.map(
      (r) => html`<tr><td>${time(r.time)}</td><td>${r.model ?? '—'}</td><td>${r.modality}</td><td class="num" data-col="credits">${credits(r.micro)}</td><td>${unitsText(r.units)}${r.byok ? ' (BYOK)' : ''}</td><td>${r.provider ?? '—'}</td><td>${r.outcome}</td><td><code data-col="request-id">${r.requestId}</code></td>${opts.showKey ? html`<td><code>${r.keyId ?? '—'}</code></td>` : ''}</tr>`,
    )}</tbody></table>`,
  );
}
