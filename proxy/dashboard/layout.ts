// The page shell and the pieces every page shares: a chart (canvas drawn by uPlot, a legend and
// the same numbers as a table), stat tiles, notices. No inline script or style: the CSP forbids it.

import { html, jsonBlock, type SafeHtml } from './html.js';
import type { ChartSpec } from './charts.js';
import { credits, day, hour } from './format.js';

export interface Shell {
  title: string;
  /** Who is looking: the header shows a logout button for sessions. */
  session: 'operator' | 'customer' | 'link' | 'none';
  nav?: SafeHtml;
  body: SafeHtml;
}

export function page(s: Shell): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${s.title} · tollgate</title>
<link rel="icon" href="/dashboard/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/static/uPlot.min.css">
<link rel="stylesheet" href="/dashboard/static/dashboard.css">
<script src="/dashboard/static/uPlot.iife.min.js" defer></script>
<script src="/dashboard/static/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">tollgate</span>
  ${s.nav ?? ''}
  ${s.session === 'operator' || s.session === 'customer' ? html`<form method="post" action="/dashboard/logout" class="logout"><button type="submit">Log out</button></form>` : ''}
</header>
<main id="main">
<h1>${s.title}</h1>
${s.body}
</main>
</body>
</html>
`.value;
}

export function chart(spec: ChartSpec, unitNote = 'credits'): SafeHtml {
  const fmtSlot = spec.slotLabel === 'Day' ? day : hour;
  const totals = spec.slots.map((_, i) => spec.series.reduce((n, s) => n + s.micro[i]!, 0));
  const data = {
    kind: spec.kind,
    x: spec.slots.map((s) => s / 1000),
    series: spec.series.map((s) => ({ label: s.label, values: s.micro.map((m) => m / 1_000_000) })),
    unit: unitNote,
    slot: spec.slotLabel,
  };
  const titleId = `${spec.id}-title`;
  const describe = `${spec.kind === 'bars' ? 'Stacked bar chart' : 'Line chart'} of ${spec.title.toLowerCase()}, in ${unitNote}. The same numbers are in the table below.`;
  return html`<figure class="chart" aria-labelledby="${titleId}">
<figcaption id="${titleId}">${spec.title}</figcaption>
${spec.series.length === 0 ? html`<p class="empty">No usage in this window.</p>` : html`<ul class="legend">${spec.series.map((s, i) => html`<li><span class="swatch s${i}" aria-hidden="true"></span>${s.label}</li>`)}</ul>`}
<div class="plot" id="${spec.id}" data-chart="${spec.id}-data" role="img" aria-label="${describe}"></div>
${jsonBlock(`${spec.id}-data`, data)}
<details class="numbers">
<summary>Table: ${spec.title.toLowerCase()}</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="${spec.title} (table)">
<table data-table="${spec.id}">
<caption>${spec.title} (${unitNote})</caption>
<thead><tr><th scope="col">${spec.slotLabel} (UTC)</th>${spec.series.map((s) => html`<th scope="col">${s.label}</th>`)}<th scope="col">Total</th></tr></thead>
<tbody>${spec.slots.map(
    (slot, i) => html`<tr><th scope="row">${fmtSlot(slot)}</th>${spec.series.map((s) => html`<td class="num">${credits(s.micro[i]!)}</td>`)}<td class="num" data-total>${credits(totals[i]!)}</td></tr>`,
  )}</tbody>
</table>
</div>
</details>
</figure>`;
}

export function stats(items: { label: string; value: string; id?: string; note?: string }[]): SafeHtml {
  return html`<dl class="stats">${items.map((i) => html`<div class="stat"><dt>${i.label}</dt><dd${i.id ? html` data-stat="${i.id}"` : ''}>${i.value}</dd>${i.note ? html`<dd class="note">${i.note}</dd>` : ''}</div>`)}</dl>`;
}

export function notice(text: string): SafeHtml {
  return html`<p class="notice" role="status">${text}</p>`;
}

/** A scrollable, keyboard-focusable table region. */
export function tableWrap(label: string, table: SafeHtml): SafeHtml {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${label}">${table}</div>`;
}
