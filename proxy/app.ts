// Assembles tollgate from its parts: pricing, ledger, billing, the data plane and the admin port.
// Every dependency is passed in or built here; nothing is a module singleton.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import type { Config } from '../config/schema.js';
import { createPricing } from '../pricing/index.js';
import type { Pricing, TierId, TierOverrides } from '../pricing/types.js';
import { createMemoryLedger, createRedisLedger } from '../ledger/index.js';
import { systemClock, type Clock, type Ledger } from '../ledger/types.js';
import { createBilling, type Billing } from '../billing/index.js';
import { createAuthenticator, hashKey, type Authenticator } from './auth.js';
import { createLogger } from './logger.js';
import { createPipeline, type Pipeline, type ProxyEvents } from './pipeline.js';
import { ADAPTERS } from './providers/index.js';
import type { ProviderAdapter } from './providers/types.js';
import { createRegistry } from './registry.js';
import { AdminRouter } from './admin/router.js';
import { registerUsageRoutes } from './admin/usage.js';
import { registerBillingRoutes } from './admin/billing-routes.js';
import { createUpgradeHandler } from './websocket.js';

export interface AppOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  /** A ledger built by the caller (tests); otherwise Redis when configured, else in-memory. */
  ledger?: Ledger;
  adapters?: readonly ProviderAdapter[];
  events?: ProxyEvents;
}

export interface App {
  config: Config;
  logger: Logger;
  pricing: Pricing;
  ledger: Ledger;
  billing: Billing | undefined;
  auth: Authenticator;
  pipeline: Pipeline;
  router: AdminRouter;
  proxyServer: Server;
  adminServer: Server;
  dispatcher: Dispatcher;
  /** Starts both listeners; returns their URLs. */
  listen(): Promise<{ proxyUrl: string; adminUrl: string }>;
  /** Graceful stop: no new requests, in-flight ones finish (up to graceMs) and settle, then close. */
  close(graceMs?: number): Promise<void>;
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.logging.level);
  const clock = opts.clock ?? systemClock;
  const pricing = createPricing(config.pricing, config.tiers as TierOverrides);
  const ledger =
    opts.ledger ??
    (config.redis
      ? await createRedisLedger({ url: config.redis.url, keyPrefix: config.redis.keyPrefix, pricing, clock, logger: logger.child({ component: 'ledger' }) })
      : createMemoryLedger({ pricing, clock, logger: logger.child({ component: 'ledger' }) }));

  // Static accounts: created if missing; their keys stored as hashes only.
  for (const a of config.accounts) {
    const input: { id: string; tier: TierId; stripeCustomerId?: string } = { id: a.id, tier: a.tier as TierId };
    if (a.stripeCustomerId) input.stripeCustomerId = a.stripeCustomerId;
    await ledger.ensureAccount(input);
    if (a.overageCapCredits !== undefined) await ledger.updateAccount(a.id, { overageCapMicro: Math.round(a.overageCapCredits * 1_000_000) });
    const existing = new Set((await ledger.listKeys(a.id)).map((k) => k.id));
    for (const key of a.apiKeys) {
      const h = hashKey(key);
      if (!existing.has(h.slice(0, 12))) await ledger.addKey(a.id, h, 'config');
    }
  }

  const auth = createAuthenticator({ ledger, clock });
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 512, pipelining: 1, connect: { timeout: 10_000 } });
  const registry = createRegistry(opts.adapters ?? ADAPTERS, config.providers);
  const pipelineDeps: Parameters<typeof createPipeline>[0] = {
    registry,
    ledger,
    pricing,
    auth,
    clock,
    dispatcher,
    logger: logger.child({ component: 'proxy' }),
    limits: config.proxy,
  };
  if (opts.events) pipelineDeps.events = opts.events;
  const pipeline = createPipeline(pipelineDeps);

  const billing = config.stripe
    ? createBilling({
        config: {
          secretKey: config.stripe.secretKey,
          apiBase: config.stripe.apiBase,
          webhookSecret: config.stripe.webhookSecret ?? '',
          meterEventName: config.stripe.meterEventName,
          prices: config.stripe.prices,
        },
        ledger,
        pricing,
        clock,
        logger,
      })
    : undefined;

  let shuttingDown = false;
  const router = new AdminRouter({ logger: logger.child({ component: 'admin' }), adminToken: config.admin.token, resolveCustomer: (k) => auth.resolve(k) });
  router.add('GET', '/healthz', 'none', () => ({ body: { status: 'ok' } }));
  router.add('GET', '/readyz', 'none', async () => {
    const ledgerOk = await ledger.ping().catch(() => false);
    const ready = ledgerOk && !shuttingDown;
    return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', ledger: ledgerOk ? ledger.kind : 'unavailable', shuttingDown } };
  });
  registerUsageRoutes(router, ledger);
  registerBillingRoutes(router, billing);

  const proxyServer = createServer({ keepAliveTimeout: 65_000 }, pipeline.handle);
  const upgrades = createUpgradeHandler({ registry, auth, ledger, logger: logger.child({ component: 'websocket' }) });
  proxyServer.on('upgrade', upgrades.handle);
  const adminServer = createServer(router.handle);

  const listen = (server: Server, host: string, port: number) =>
    new Promise<string>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const a = server.address() as AddressInfo;
        resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });

  const app: App = {
    config,
    logger,
    pricing,
    ledger,
    billing,
    auth,
    pipeline,
    router,
    proxyServer,
    adminServer,
    dispatcher,
    async listen() {
      const proxyUrl = await listen(proxyServer, config.proxy.host, config.proxy.port);
      const adminUrl = await listen(adminServer, config.admin.host, config.admin.port);
      return { proxyUrl, adminUrl };
    },
    async close(graceMs = config.shutdown.graceMs) {
      if (shuttingDown) return;
      shuttingDown = true;
      // 1. Stop accepting; idle keep-alive sockets go now, busy ones when their response ends.
      const proxyClosed = new Promise<void>((r) => (proxyServer.listening ? proxyServer.close(() => r()) : r()));
      proxyServer.closeIdleConnections();
      // 2. Let in-flight requests (streams included) finish and settle, up to the grace period.
      const finished = await pipeline.idle(graceMs);
      // 3. Past the grace period: cut what is left; each cut request still settles (aborted).
      if (!finished) {
        proxyServer.closeAllConnections();
        await pipeline.idle(10_000);
      }
      await proxyClosed;
      await new Promise<void>((r) => (adminServer.listening ? adminServer.close(() => r()) : r()));
      adminServer.closeAllConnections();
      upgrades.close();
      auth.close();
      await dispatcher.close().catch(() => {});
      await ledger.close();
    },
  };
  return app;
}
