// The embedded in-memory ledger: the Redis ledger's semantics in one process (the default
// without Redis). This file only composes the parts; each has its own file in ledger/memory/.
//
// Every operation runs synchronously between awaits, so each is atomic, like a Lua script.

import { createMemoryAuditLog } from '../audit-log.js';
import { DEFAULT_HISTORY } from '../usage-history.js';
import { createAccounts } from './accounts.js';
import { createAlerts } from './alerts.js';
import { createApiKeys } from './api-keys.js';
import { createMemoryContext } from './context.js';
import { createHistory, historyWriter } from './history.js';
import { createMetering } from './metering.js';
import type { MemoryLedger, MemoryLedgerOptions } from './options.js';
import { createOutbox } from './outbox.js';
import { createSessions } from './sessions.js';

export function createMemoryLedger(opts: MemoryLedgerOptions): MemoryLedger {
  const ctx = createMemoryContext(opts);
  const alerts = createAlerts(ctx, opts.alerts);
  const ledger: MemoryLedger = {
    kind: 'memory',
    outbox: createOutbox(ctx),
    alerts: alerts.outbox,
    audit: createMemoryAuditLog(ctx.clock),
    firedAlerts: alerts.firedAlerts,
    ...createAccounts(ctx),
    ...createApiKeys(ctx),
    ...createMetering(ctx, historyWriter(opts.history ?? DEFAULT_HISTORY), alerts),
    ...createHistory(ctx),
    ...createSessions(ctx),
    async ping() {
      return true;
    },
    async close() {
      ctx.listeners.clear();
    },
  };
  return ledger;
}
