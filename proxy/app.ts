// Assembles tollgate from its parts: pricing, ledger, billing, the data plane and the admin port.
// Every dependency is passed in or built here; nothing is a module singleton.

import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import type { Config } from '../config/schema.js';
import { createPricing } from '../pricing/index.js';
import type { Pricing, TierId, TierOverrides } from '../pricing/types.js';
import { createFlusher, createMemoryLedger, createRedisLedger, DEFAULT_IDEMPOTENCY_TTL_MS, MARKER_MARGIN_MS, type Flusher } from '../ledger/index.js';
import { systemClock, type Clock, type Ledger } from '../ledger/types.js';
import { createBilling, createStripeGateway, createStripeMeterSink, type Billing } from '../billing/index.js';
import { createAuthenticator, hashKey, type Authenticator } from './auth.js';
import { reconcileAccounts } from './reconcile.js';
import { createLogger } from './logger.js';
import { createPipeline, type Pipeline, type ProxyEvents } from './pipeline.js';
import { ADAPTERS } from './providers/index.js';
import type { ProviderAdapter } from './providers/types.js';
import { createRegistry } from './registry.js';
import { timingSafeEqual } from 'node:crypto';
import { AdminHttpError, AdminRouter } from './admin/router.js';
import { registerUsageRoutes } from './admin/usage.js';
import { registerBillingRoutes } from './admin/billing-routes.js';
import { registerAccountRoutes } from './admin/accounts.js';
import { registerProviderKeyRoutes } from './admin/provider-keys.js';
import { registerOperatorRoutes } from './admin/operator.js';
import { combineEvents, createMetrics, type Metrics } from './metrics.js';
import { createKeyStore, createSecretBox, type KeyStore } from './secrets.js';
import { createBodyBudget } from './body-budget.js';
import { registerDashboard } from './dashboard/routes.js';
import { ledgerAlertSource, ledgerHistorySource } from './dashboard/ledger-source.js';
import { registerAlertRoutes } from './admin/alerts.js';

/** Past the grace period, calls still running are cut and given this long to write their settles. */
const CUT_SETTLE_MS = 1_000;
import { createSettlement } from './metering/settlement.js';
import { alertRulesOf, createAlerts } from './alerts/setup.js';
import type { AlertDeliverer } from '../ledger/index.js';
import { createRealtimeServer, type RealtimeServer } from './realtime/server.js';

export interface AppOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  /** A ledger built by the caller (tests); otherwise Redis when configured, else in-memory. */
  ledger?: Ledger;
  adapters?: readonly ProviderAdapter[];
  /** Extra hooks beside the app's own metrics. */
  events?: ProxyEvents;
  /** Under --workers: the summed metrics of every worker (proxy/cluster.ts); default: this app's. */
  metricsText?: () => Promise<string>;
}

export interface App {
  config: Config;
  logger: Logger;
  pricing: Pricing;
  ledger: Ledger;
  billing: Billing | undefined;
  /** The overage flusher, when `stripe:` is configured; started by listen(), drained by close(). */
  flusher: Flusher | undefined;
  /** The alert deliverer, when `alerts:` is configured; started by listen(), stopped by close(). */
  alerts: AlertDeliverer | undefined;
  metrics: Metrics;
  /** Stored BYOK keys (sealed under byok.masterKey). */
  keyStore: KeyStore;
  auth: Authenticator;
  pipeline: Pipeline;
  /** Realtime (WebSocket) sessions on the proxy port's `upgrade` event. */
  realtime: RealtimeServer;
  router: AdminRouter;
  proxyServer: Server;
  adminServer: Server;
  /** /metrics on its own address (metrics.port); undefined: on the admin port. */
  metricsServer: Server | undefined;
  dispatcher: Dispatcher;
  /** Starts the listeners; returns their URLs. */
  listen(): Promise<{ proxyUrl: string; adminUrl: string; metricsUrl?: string }>;
  /** Graceful stop: no new requests, in-flight ones finish (up to graceMs) and settle, then close. */
  close(graceMs?: number): Promise<void>;
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.logging.level);
  const clock = opts.clock ?? systemClock;
  const pricing = createPricing(config.pricing, config.tiers as TierOverrides);
  const alertRules = config.alerts ? alertRulesOf(config.alerts) : undefined;
  const ledger =
    opts.ledger ??
    (config.redis
      ? await createRedisLedger({
          url: config.redis.url,
          cluster: config.redis.cluster,
          sentinel: config.redis.sentinel,
          keyPrefix: config.redis.keyPrefix,
          pricing,
          clock,
          logger: logger.child({ component: 'ledger' }),
          // A request id is remembered past its reservation (proxy.reservationTtlMs).
          idempotencyTtlMs: Math.max(DEFAULT_IDEMPOTENCY_TTL_MS, config.proxy.reservationTtlMs + MARKER_MARGIN_MS),
          // Off: every reserve goes to Redis, and paid requests in flight show as `reserved`.
          ...(config.redis.localAdmission ? {} : { termsTtlMs: 0 }),
          journal: config.redis.journal,
          epoch: { checkMs: config.redis.epochCheckMs, file: join(config.redis.journal.dir, 'epochs.json') },
          history: config.history,
          ...(alertRules ? { alerts: alertRules } : {}),
        })
      : createMemoryLedger({ pricing, clock, logger: logger.child({ component: 'ledger' }), history: config.history, ...(alertRules ? { alerts: alertRules } : {}) }));

  // Static accounts: the config is the truth for what it lists (keys stored as hashes only). Not
  // on a ledger that came back empty: that would seed it as if it were new (docs/reliability.md,
  // "An empty Redis"); `tollgate ledger adopt-epoch` does.
  const health = ledger.health?.();
  if (health && !health.ready) logger.error({ reason: health.reason }, 'the ledger is not the one this process knew: serving 503 ledger_unavailable, static accounts not reconciled');
  else await reconcileAccounts(ledger, config.accounts, logger);

  const auth = createAuthenticator({ ledger, clock });
  const metrics = createMetrics();
  const keyStore = createKeyStore({
    ledger,
    box: config.byok.masterKey ? createSecretBox(config.byok.masterKey, config.byok.previousMasterKeys) : undefined,
    clock,
    logger: logger.child({ component: 'byok' }),
    ttlMs: config.byok.cacheTtlMs,
  });
  // No cap on connections per upstream: each request in flight holds one (HTTP/1.1), and an LLM
  // stream holds it for minutes, so a cap (512 here before) made the next request wait for a
  // whole stream to end. http-proxy-3 / Node's agent do not cap either.
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: null, pipelining: 1, connect: { timeout: 10_000 } });
  const registry = createRegistry(opts.adapters ?? ADAPTERS, config.providers);
  const bodyBudget = createBodyBudget(config.proxy.maxBufferedBytes);
  metrics.watchBufferedBytes(() => bodyBudget.held());
  const pipelineDeps: Parameters<typeof createPipeline>[0] = {
    registry,
    ledger,
    pricing,
    auth,
    clock,
    dispatcher,
    logger: logger.child({ component: 'proxy' }),
    limits: config.proxy,
    bodyBudget,
    events: combineEvents(metrics.events, opts.events),
    storedKey: (accountId, provider) => keyStore.get(accountId, provider),
    storedKeyCached: (accountId, provider) => keyStore.peek(accountId, provider),
  };
  const pipeline = createPipeline(pipelineDeps);
  metrics.watchInFlight(() => pipeline.inFlight());

  // One Stripe gateway for the billing handlers and the flusher's meter sink.
  const gateway = config.stripe ? createStripeGateway({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase, logger }) : undefined;
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
        gateway,
      })
    : undefined;
  const flusher =
    config.stripe && gateway
      ? createFlusher({
          ledger,
          sink: createStripeMeterSink({ gateway, ledger, eventName: config.stripe.meterEventName, logger }),
          clock,
          logger,
          intervalMs: config.stripe.flushIntervalMs,
        })
      : undefined;
  if (flusher) metrics.watchFlusher(() => flusher.stats());
  const alerts = createAlerts(config, ledger, clock, logger);
  if (alerts) metrics.watchAlerts(() => alerts.stats());

  let shuttingDown = false;
  const router = new AdminRouter({ logger: logger.child({ component: 'admin' }), adminToken: config.admin.token, resolveCustomer: (k) => auth.resolvePrincipal(k) });
  router.add('GET', '/healthz', 'none', () => ({ body: { status: 'ok' } }));
  // Ready: the ledger answers and we are not stopping. The config was validated at start (a bad
  // one never gets this far); what it enables is reported so an operator can see it at a glance.
  const configSummary = {
    providers: [...registry.values()].filter((p) => p.origin && (p.apiKey || p.adapter.keyOptional)).map((p) => p.adapter.id),
    billing: config.stripe !== undefined,
    storedProviderKeys: keyStore.writable,
    adminApi: config.admin.token !== undefined,
  };
  router.add('GET', '/readyz', 'none', async () => {
    const ledgerOk = await ledger.ping().catch(() => false);
    const ready = ledgerOk && !shuttingDown;
    // A Redis that came back empty (ledger/epoch.ts) answers pings but is not ready: the reason says why.
    const h = ledger.health?.();
    return {
      status: ready ? 200 : 503,
      body: {
        status: ready ? 'ready' : 'not ready',
        ledger: ledgerOk ? ledger.kind : 'unavailable',
        ...(h?.reason ? { ledgerReason: h.reason } : {}),
        ...(h?.journaled ? { journaled: h.journaled } : {}),
        shuttingDown,
        config: configSummary,
      },
    };
  });
  const metricsText = opts.metricsText ?? metrics.render;
  // /metrics: on the admin port, or alone on metrics.host:port; behind metrics.token when set.
  const metricsRouter = config.metrics.port === undefined ? router : new AdminRouter({ logger: logger.child({ component: 'metrics' }), adminToken: undefined, resolveCustomer: async () => null });
  const metricsTokenHash = config.metrics.token ? Buffer.from(hashKey(config.metrics.token), 'hex') : undefined;
  metricsRouter.add('GET', '/metrics', 'none', async (ctx) => {
    if (metricsTokenHash) {
      const h = ctx.req.headers.authorization;
      const token = typeof h === 'string' && /^bearer /i.test(h) ? h.slice(7).trim() : '';
      if (!token || !timingSafeEqual(Buffer.from(hashKey(token), 'hex'), metricsTokenHash)) {
        throw new AdminHttpError(401, 'invalid_metrics_token', 'GET /metrics needs Authorization: Bearer <metrics.token>');
      }
    }
    return { text: await metricsText(), headers: { 'content-type': metrics.contentType } };
  });
  registerUsageRoutes(router, ledger, { clock, hourlyRetentionDays: config.history.hourlyRetentionDays, historyEnabled: config.history.enabled });
  registerBillingRoutes(router, billing);
  registerAccountRoutes(router, ledger, { logger: logger.child({ component: 'admin' }), clock });
  registerOperatorRoutes(router, ledger, { clock });
  registerAlertRoutes(router, ledger);
  registerProviderKeyRoutes(router, { store: keyStore, providers: registry, ledger, logger: logger.child({ component: 'admin' }) });
  if (config.dashboard.enabled) {
    registerDashboard(router, {
      config: config.dashboard,
      adminToken: config.admin.token,
      ledger,
      resolveKey: (k) => auth.resolvePrincipal(k),
      metricsText,
      history: ledgerHistorySource(ledger, { hourlyRetentionDays: config.history.hourlyRetentionDays, now: () => clock.now() }),
      // Without `alerts:` nothing is recorded: the section would only ever say so.
      alerts: config.alerts ? ledgerAlertSource(ledger) : undefined,
      clock,
      logger: logger.child({ component: 'dashboard' }),
    });
  }

  const proxyServer = createServer({ keepAliveTimeout: 65_000 }, pipeline.handle);
  // Past the cap a new connection is closed as soon as it is accepted (the client sees a reset).
  proxyServer.maxConnections = config.proxy.maxConnections;
  proxyServer.on('drop', () => metrics.connectionDropped());
  const realtimeLogger = logger.child({ component: 'realtime' });
  const realtime = createRealtimeServer({
    registry,
    auth,
    ledger,
    pricing,
    settlement: createSettlement({ ledger, logger: realtimeLogger, events: pipelineDeps.events }),
    logger: realtimeLogger,
    limits: config.proxy,
    config: config.realtime,
    events: metrics.realtime,
    storedKey: (accountId, provider) => keyStore.get(accountId, provider),
    now: () => clock.now(),
  });
  proxyServer.on('upgrade', realtime.handle);
  const adminServer = createServer(router.handle);
  const metricsServer = metricsRouter === router ? undefined : createServer(metricsRouter.handle);

  // A listen error names its listener (proxy/admin): bin/startup-failure.ts reports it.
  const listen = (server: Server, host: string, port: number, listener: string) =>
    new Promise<string>((resolve, reject) => {
      const onError = (err: Error) => reject(Object.assign(err, { listener }));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const a = server.address() as AddressInfo;
        resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });

  const closeServer = async (server: Server, waitMs: number): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    const t = setTimeout(() => server.closeAllConnections(), waitMs);
    await closed;
    clearTimeout(t);
  };

  let closing: Promise<void> | undefined;
  async function shutdown(graceMs: number): Promise<void> {
    shuttingDown = true; // /readyz answers 503 from now on: load balancers stop sending
    const log = logger.child({ component: 'shutdown' });
    log.info({ inFlight: pipeline.inFlight(), graceMs }, 'stopping: no new connections, waiting for requests in flight');
    // 1. Stop accepting. Idle keep-alive sockets close now; busy ones once their response ends
    //    (Node answers on a closing server with `Connection: close`).
    const proxyClosed = new Promise<void>((r) => (proxyServer.listening ? proxyServer.close(() => r()) : r()));
    proxyServer.closeIdleConnections();
    // 2. In-flight requests, streams included, finish on their own and settle, up to graceMs.
    //    Realtime sessions too; those still open then are closed 1001 and settle.
    const [finished] = await Promise.all([pipeline.idle(graceMs), realtime.drain(graceMs)]);
    // 3. Past the grace period: cut what is left. A cut request settles as `aborted`, charged
    //    what its meter saw (pipeline.ts); idle() resolves once every settlement is written.
    //    Calls read on for clients that left (pipeline.ts, `keep`) are cut too.
    if (!finished) {
      log.warn({ inFlight: pipeline.inFlight() }, 'grace period over: cutting the requests still open');
      pipeline.cut();
      proxyServer.closeAllConnections();
      if (!(await pipeline.idle(CUT_SETTLE_MS))) log.error({ inFlight: pipeline.inFlight() }, 'requests still unsettled after the cut');
    }
    proxyServer.closeAllConnections();
    await proxyClosed;
    // 4. Report the overage settled so far: a final full flush run.
    if (flusher) {
      const report = await flusher.drain().catch((err: unknown) => {
        log.error({ err }, 'final overage flush failed; the outbox keeps it for the next start');
        return undefined;
      });
      if (report) log.info({ report }, 'overage flushed');
    }
    // 4a. Alerts: the run in progress ends; what was not sent waits in the outbox for any replica.
    await alerts?.stop();
    // 5. The admin port last, so /readyz could say "stopping" until now.
    await closeServer(adminServer, 1_000);
    if (metricsServer) await closeServer(metricsServer, 1_000);
    auth.close();
    // Past the grace period nothing may hold the stop: connections still open are destroyed.
    await (finished ? dispatcher.close() : dispatcher.destroy()).catch(() => {});
    await ledger.close();
    log.info('stopped');
  }

  const app: App = {
    config,
    logger,
    pricing,
    ledger,
    billing,
    flusher,
    alerts,
    metrics,
    keyStore,
    auth,
    pipeline,
    realtime,
    router,
    proxyServer,
    adminServer,
    metricsServer,
    dispatcher,
    async listen() {
      const proxyUrl = await listen(proxyServer, config.proxy.host, config.proxy.port, 'proxy');
      const adminUrl = await listen(adminServer, config.admin.host, config.admin.port, 'admin');
      const metricsUrl = metricsServer ? await listen(metricsServer, config.metrics.host ?? config.admin.host, config.metrics.port!, 'metrics') : undefined;
      flusher?.start();
      alerts?.start();
      return metricsUrl ? { proxyUrl, adminUrl, metricsUrl } : { proxyUrl, adminUrl };
    },
    close(graceMs = config.shutdown.graceMs) {
      closing ??= shutdown(graceMs);
      return closing;
    },
  };
  return app;
}

/** The config's static accounts, reconciled with the file (proxy/reconcile.ts): `tollgate ledger adopt-epoch` uses it. */
export async function seedAccounts(ledger: Ledger, config: Config, logger: Logger): Promise<void> {
  await reconcileAccounts(ledger, config.accounts, logger);
}
