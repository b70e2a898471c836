// How the dashboard writes numbers and times: credits exact to the micro-credit (as the JSON API),
// with thousands separators a reader can strip; times in UTC, ISO-like.

import { fmt } from '../metering/settlement.js';

/** µcr as credits, exact: 1234567890 -> "1,234.56789". */
export function credits(micro: number): string {
  const s = fmt(micro);
  const [whole, frac] = s.split('.') as [string, string | undefined];
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${digits}${frac ? `.${frac}` : ''}`;
}

export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 2026-12-03 14:05 UTC */
export function time(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function hour(ms: number): string {
  return new Date(ms).toISOString().slice(5, 13).replace('T', ' ') + ':00';
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const startOfUtcDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
export const startOfUtcHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
