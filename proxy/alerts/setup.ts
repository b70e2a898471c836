// Threshold alerts from the config: the rules the ledger records with, and the deliverer that posts them.

import type { Logger } from 'pino';
import type { AlertsConfig, Config } from '../../config/schema.js';
import { createAlertDeliverer, type AlertDeliverer, type AlertRules, type Clock, type Ledger } from '../../ledger/index.js';
import type { AlertOutbox } from '../../ledger/types.js';
import { createWebhookSender } from './webhook.js';

const micro = (credits: number) => Math.round(credits * 1_000_000);

export function alertRulesOf(a: AlertsConfig): AlertRules {
  return { percent: [...a.thresholds], remainingMicro: a.remainingCredits.map(micro) };
}

/** The deliverer, when `alerts:` is configured and the ledger keeps an alert outbox (both backends do). */
export function createAlerts(config: Config, ledger: Ledger, clock: Clock, logger: Logger): AlertDeliverer | undefined {
  const a = config.alerts;
  const outbox = (ledger as Ledger & { alerts?: AlertOutbox }).alerts;
  if (!a || !outbox) return undefined;
  return createAlertDeliverer({
    outbox,
    sender: createWebhookSender({ url: a.webhookUrl, secret: a.secret, clock, timeoutMs: a.timeoutMs }),
    clock,
    logger,
    intervalMs: a.intervalMs,
    leaseMs: a.leaseMs,
    retries: a.retries,
    backoffMs: a.backoffMs,
    maxBackoffMs: a.maxBackoffMs,
    sweepEvery: a.sweepEvery,
  });
}
