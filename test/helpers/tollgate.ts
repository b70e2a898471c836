// Test helper: an in-process tollgate on free ports with a given config, a fresh account and
// key, and shortcuts to read /v1/usage and the ledger. Everything closes at t.teardown.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { createApp, type App } from '../../proxy/app.js';
import { createMemoryLedger } from '../../ledger/index.js';
import { systemClock, type Clock, type Ledger } from '../../ledger/types.js';
import { createPricing } from '../../pricing/index.js';
import type { TierOverrides } from '../../pricing/types.js';
import type { ProxyEvents } from '../../proxy/pipeline.js';

export interface TestTollgate {
  app: App;
  proxyUrl: string;
  adminUrl: string;
  config: Config;
  /** `${proxyUrl}/${provider}` */
  base(provider: string): string;
  /** GET /v1/usage with the key. */
  usage(key?: string): Promise<any>;
  close(): Promise<void>;
}

export const TEST_KEY = 'tg_test_key_0000000000000000000001';
export const ADMIN_TOKEN = 'admin_token_for_tests_0001';

/**
 * `raw` is merged over a minimal config: one account `acct` (tier `tier`, key TEST_KEY),
 * ports 0, logging silent. Pass `redis: {url}` for the Redis ledger.
 */
export async function startTollgate(
  raw: Record<string, unknown> = {},
  opts: { tier?: string; clock?: Clock; logger?: Logger; events?: ProxyEvents; env?: NodeJS.ProcessEnv; ledger?: (made: Ledger) => Ledger } = {},
): Promise<TestTollgate> {
  const base: Record<string, unknown> = {
    proxy: { port: 0 },
    admin: { port: 0, token: ADMIN_TOKEN },
    logging: { level: 'silent' },
    accounts: [{ id: 'acct', tier: opts.tier ?? 'free', apiKeys: [TEST_KEY] }],
  };
  const merged: Record<string, unknown> = { ...base, ...raw };
  for (const k of ['proxy', 'admin', 'logging'] as const) {
    if (raw[k]) merged[k] = { ...(base[k] as object), ...(raw[k] as object) };
  }
  // A journal dir of its own (not ./data/journal), removed at close, unless the test names one.
  let journalDir: string | undefined;
  const redisCfg = merged.redis as { journal?: unknown } | undefined;
  if (redisCfg && !redisCfg.journal) {
    journalDir = mkdtempSync(join(tmpdir(), 'tollgate-journal-'));
    merged.redis = { ...redisCfg, journal: { dir: journalDir } };
  }
  const config = validateConfig(merged, opts.env ?? {}, 'test');
  const appOpts: Parameters<typeof createApp>[0] = { config, logger: opts.logger ?? pino({ level: 'silent' }) };
  if (opts.clock) appOpts.clock = opts.clock;
  if (opts.events) appOpts.events = opts.events;
  // `ledger`: wraps the in-memory ledger the config would make (fault injection).
  if (opts.ledger) appOpts.ledger = opts.ledger(createMemoryLedger({ pricing: createPricing(config.pricing, config.tiers as TierOverrides), clock: opts.clock ?? systemClock, logger: pino({ level: 'silent' }), history: config.history }));
  const app = await createApp(appOpts);
  const { proxyUrl, adminUrl } = await app.listen();
  return {
    app,
    proxyUrl,
    adminUrl,
    config,
    base: (p) => `${proxyUrl}/${p}`,
    async usage(key = TEST_KEY) {
      const r = await fetch(`${adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
      if (r.status !== 200) throw new Error(`usage: ${r.status} ${await r.text()}`);
      return r.json();
    },
    close: async () => {
      await app.close(2_000);
      if (journalDir) rmSync(journalDir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` is true (settlement happens just after the response ends). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met in time');
}
