// The Redis ledger: one Lua script per metering call (reserve, settle), keys hash-tagged per
// account (keys.ts). This file only composes the parts; each has its own file in ledger/redis/.

import { DEFAULT_IDEMPOTENCY_TTL_MS } from '../account-state.js';
import { createRedisAuditLog } from '../audit-log.js';
import type { TierId } from '../../pricing/types.js';
import { encodeTierTable, tierTable } from '../inputs.js';
import { encodeRulesSuffix } from '../alert-rules.js';
import { createAccounts } from './accounts.js';
import { alertPendingMarker, createAlertOutbox, firedAlertsReader } from './alert-outbox.js';
import { createAdmission } from './admission.js';
import { createApiKeys } from './api-keys.js';
import { createBatcher } from './batcher.js';
import { openConnection } from './connection.js';
import { scriptRunner, type LedgerContext } from './context.js';
import { openDurability, type Durability } from './durability.js';
import { keyLayout } from './keys.js';
import { createMetering } from './metering.js';
import type { RedisLedger, RedisLedgerOptions } from './options.js';
import { createOutbox } from './outbox.js';
import { createHistory } from './history.js';
import { createSessions } from './sessions.js';
import { createZones } from './zones.js';
import { DEFAULT_HISTORY, historyArg } from '../usage-history.js';
import { openPubSub, type PubSub } from './pubsub.js';

export async function createRedisLedger(opts: RedisLedgerOptions): Promise<RedisLedger> {
  const logger = opts.logger.child({ component: 'redis-ledger' });
  const { clock } = opts;
  const idemTtl = opts.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const tiers = tierTable(opts.pricing);
  // The alert rules ride at the end of the tier table (lib/alerts.lua): every script gets them.
  const tierArg = encodeTierTable(tiers) + encodeRulesSuffix(opts.alerts);
  const tierOf = (id: string | undefined) => tiers[(id ?? 'free') as TierId] ?? tiers.free;
  const keys = keyLayout(opts.keyPrefix ?? 'tg', idemTtl);

  const conn = await openConnection({ url: opts.url, cluster: opts.cluster, sentinel: opts.sentinel, redis: opts.redis, commandTimeoutMs: opts.commandTimeoutMs ?? 1000, connectTimeoutMs: opts.connectTimeoutMs }, logger);
  const { client } = conn;
  const history = opts.history ?? DEFAULT_HISTORY;
  const histArg = historyArg(history);
  // Its guard is the durability's, set just below (a zone is first read after that).
  const zones = createZones(client, keys, (fn) => durability.guard(fn));
  const alertPending = alertPendingMarker(client, keys, logger);
  const batcher = createBatcher({ client, keys, clock, logger, idemTtl, tierArg, histArg, receipts: history.enabled !== false && history.receiptsPerAccount > 0, zones, onAlerted: alertPending });
  let durability: Durability;
  let pubsub: PubSub | undefined;
  const admission = createAdmission({
    client,
    keys,
    clock,
    termsTtl: opts.termsTtlMs ?? 10_000,
    tierOf,
    trusted: () => durability.usable() && pubsub !== undefined && pubsub.subscribed() && batcher.healthy(),
  });
  try {
    durability = await openDurability({ client, keys, url: conn.url, clock, logger, batcher, idemTtl, journal: opts.journal, epoch: opts.epoch, zoneReady: (id) => zones.ready(id) });
    pubsub = await openPubSub({
      subscriber: conn.subscriber,
      sharded: conn.sharded,
      keys,
      logger,
      forget: (id) => {
        admission.forget(id);
        zones.changed(id);
      },
    });
  } catch (err) {
    conn.abort();
    throw err;
  }
  const ctx: LedgerContext = {
    client,
    keys,
    clock,
    logger,
    idemTtl,
    tiers,
    tierArg,
    guard: durability.guard,
    script: scriptRunner(client),
    tierOf,
    sharded: conn.sharded,
    publish: (channel, message) => (conn.sharded ? client.spublish(channel, message) : client.publish(channel, message)),
  };
  const { requireAccount, ...accounts } = createAccounts(ctx, (id) => admission.forget(id), zones);
  const metering = createMetering({ ctx, batcher, admission, durability, alertPending, settleDelay: opts.settleDelayMs ?? 1, openSettleDelay: opts.openSettleDelayMs ?? 5, zones, histArg });
  const ps = pubsub;
  const outbox = createOutbox(ctx);
  let closed = false;

  const ledger: RedisLedger = {
    kind: 'redis',
    outbox,
    alerts: createAlertOutbox(ctx, () => outbox.pendingAccounts(true)),
    audit: createRedisAuditLog({ client, prefix: keys.prefix, clock, accountKey: (id) => keys.acct(id).audit, guard: durability.guard }),
    ...accounts,
    ...createApiKeys(ctx, requireAccount, zones),
    ...metering,
    ...createHistory(ctx),
    ...createSessions(ctx),
    firedAlerts: firedAlertsReader(ctx),
    onKeyRevoked: ps.onKeyRevoked,
    onAccountChanged: ps.onAccountChanged,
    onMessagesLost: ps.onMessagesLost,
    replayJournal: durability.replayJournal,
    health: durability.health,
    async ping() {
      if (!durability.usable()) return false;
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      // Calls queued go out before the connection closes (QUIT waits for their replies).
      batcher.flushNow();
      await durability.close();
      ps.clear();
      await conn.close();
    },
  };
  logger.debug({ prefix: keys.prefix }, 'redis ledger ready');
  durability.start();
  return ledger;
}
