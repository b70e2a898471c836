// The alert webhook: a signed POST of one event (interface.md, "Usage over time"; README, Alerts).
//
// Tollgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>, the
// scheme Stripe uses for its own webhooks: the timestamp is signed with the body, so a receiver
// can refuse a replayed request by its age. The secret is never logged, nor the URL's query.

import { createHmac } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import type { AlertDelivery, AlertSender, Clock } from '../../ledger/index.js';

export interface WebhookSenderOptions {
  url: string;
  secret: string;
  clock: Clock;
  /** Whole request, headers and body, ms. */
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

/** The Tollgate-Signature header value for `body` at `unixSeconds`. */
export function signAlert(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

export function createWebhookSender(o: WebhookSenderOptions): AlertSender {
  const where = (() => {
    const u = new URL(o.url);
    return `${u.origin}${u.pathname}`;
  })();
  return {
    async send(d: AlertDelivery, stop?: AbortSignal) {
      const t = Math.floor(o.clock.now() / 1000);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(o.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'tollgate-alerts',
            'tollgate-signature': signAlert(o.secret, t, d.body),
            'tollgate-event-id': d.id,
          },
          body: d.body,
          headersTimeout: o.timeoutMs,
          bodyTimeout: o.timeoutMs,
          signal: stop ? AbortSignal.any([AbortSignal.timeout(o.timeoutMs), stop]) : AbortSignal.timeout(o.timeoutMs),
          ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
        });
      } catch (err) {
        throw new Error(`POST ${where}: ${(err as Error).name === 'TimeoutError' ? `no answer in ${o.timeoutMs} ms` : (err as Error).message}`);
      }
      await res.body.dump().catch(() => undefined);
      if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`POST ${where}: HTTP ${res.statusCode}`);
    },
  };
}
