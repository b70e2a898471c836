// Test helper: a real HTTP webhook receiver for tollgate's alerts, recording every attempt, and
// the signature check a receiver does (README, Alerts).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The secret test processes sign with (tests/helpers/alert-child.ts and its parent). */
export const ALERT_TEST_SECRET = 'whsec_child_alerts_0123456789abcd';

export interface AlertAttempt {
  id: string;
  body: string;
  json: any;
  signature: string;
  /** The status answered (0: never answered: held, or the connection dropped). */
  status: number;
}

/** How to answer an attempt: a status, or 'hold' (never answer: a timeout, or a killed sender). */
export type Answer = number | 'hold';

export interface AlertReceiver {
  url: string;
  attempts: AlertAttempt[];
  /** Attempts answered 2xx, i.e. what a deduping receiver acted on (first per id). */
  accepted(): AlertAttempt[];
  /** Chooses the answer to each attempt; default 200. `n`: this id's attempt number, from 1. */
  answer: (a: AlertAttempt, n: number) => Answer;
  /** Resolves at the next attempt received. */
  next(): Promise<AlertAttempt>;
  /** Resolves once `count` attempts were answered 2xx. */
  acceptedCount(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Checks `Tollgate-Signature: t=..,v1=..` against the raw body with the secret, constant-time. */
export function verifySignature(secret: string, header: string, rawBody: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const got = Buffer.from(parts.v1, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export async function startAlertReceiver(): Promise<AlertReceiver> {
  const attempts: AlertAttempt[] = [];
  const held: ServerResponse[] = [];
  let waiters: ((a: AlertAttempt) => void)[] = [];
  let acceptedWaiters: { count: number; resolve: () => void }[] = [];
  const accepted = () => attempts.filter((a) => a.status >= 200 && a.status < 300);
  const notifyAccepted = () => {
    const n = accepted().length;
    acceptedWaiters = acceptedWaiters.filter((w) => (n >= w.count ? (w.resolve(), false) : true));
  };
  const r: AlertReceiver = {
    url: '',
    attempts,
    accepted,
    answer: () => 200,
    next: () => new Promise((resolve) => waiters.push(resolve)),
    acceptedCount(count, timeoutMs = 10_000) {
      if (accepted().length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: ${accepted().length} of ${count} accepted after ${timeoutMs} ms`)), timeoutMs);
        acceptedWaiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any = null;
      try {
        json = JSON.parse(body);
      } catch {
        // recorded as is
      }
      const a: AlertAttempt = { id: json?.id ?? '', body, json, signature: String(req.headers['tollgate-signature'] ?? ''), status: 0 };
      attempts.push(a);
      const n = attempts.filter((x) => x.id === a.id).length;
      const ans = r.answer(a, n);
      const w = waiters;
      waiters = [];
      if (ans === 'hold') held.push(res);
      else {
        a.status = ans;
        res.writeHead(ans, { 'content-type': 'text/plain' }).end(ans < 300 ? 'ok' : 'no');
      }
      for (const f of w) f(a);
      notifyAccepted();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tollgate`;
  return r;
}
