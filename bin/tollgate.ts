#!/usr/bin/env node
// The tollgate command: `serve` (default) runs the proxy and admin port, on N workers; `demo`
// walks through a few metered calls against stand-in providers; `accounts`, `keys` and `byok`
// talk to a running tollgate's admin API.

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { SHUTDOWN_MARGIN_MS, type Config } from '../config/schema.js';
import type { AppOptions } from '../proxy/app.js';
import { ADMIN_USAGE, runAdminCommand } from './admin-commands.js';
import { LEDGER_USAGE, runLedgerCommand } from './ledger-commands.js';

// The app and its dependencies load only for `serve` and `demo`: the admin commands and
// --help start in a fraction of the time.

const USAGE = `usage: tollgate [serve] [--config FILE] [--workers N]
       tollgate demo
       tollgate accounts|keys|byok|usage|audit …   (see below)
       tollgate ledger adopt-epoch …
       tollgate --help

  serve            run the proxy (default 127.0.0.1:8080) and the admin port (127.0.0.1:8081);
                   a startup failure prints one line and exits non-zero
  --config FILE    YAML config (also TOLLGATE_CONFIG); without one, the embedded defaults:
                   in-memory ledger (Redis with REDIS_URL) and a demo account
  --workers N      processes sharing the ports (default: config \`workers\`, else the CPU
                   count); the in-memory ledger always runs 1, as its state is per process
  demo             start tollgate with local stand-in providers and walk through a TTS, an
                   STT, an LLM stream and a BYOK call, printing /v1/usage after each

environment (the embedded defaults; a config file names its own \${VARS}):
  TOLLGATE_CONFIG        the config file (as --config)
  TOLLGATE_HOST          both listeners' address (default 127.0.0.1)
  TOLLGATE_PORT          the proxy port (default 8080)
  TOLLGATE_ADMIN_PORT    the admin port (default 8081)
  TOLLGATE_ADMIN_TOKEN   enables /admin/* (16+ characters); the CLI sends it
  TOLLGATE_ADMIN_URL     the admin port the CLI talks to (default http://127.0.0.1:8081)
  TOLLGATE_DASHBOARD_LINK_SECRET   signs the dashboard's customer links (32+ characters)
  TOLLGATE_DEMO_KEY      the demo account's key (16+ characters; default: a new one each start,
                         the previous one revoked)
  REDIS_URL              the Redis ledger (default: in memory)
  platform provider keys: OPENAI_API_KEY ANTHROPIC_API_KEY GROQ_API_KEY MISTRAL_API_KEY
    ELEVENLABS_API_KEY DEEPGRAM_API_KEY CARTESIA_API_KEY FISH_AUDIO_API_KEY RESEMBLE_API_KEY
    INWORLD_API_KEY DASHSCOPE_API_KEY (unset: that provider serves BYOK calls only)

${ADMIN_USAGE}

${LEDGER_USAGE}`;

export interface LoadedConfig {
  config: Config;
  demoKey?: string;
  source: string;
}

export async function loadConfig(file: string | undefined): Promise<LoadedConfig> {
  const { loadConfigFile } = await import('../config/index.js');
  const { defaultConfig } = await import('../config/defaults.js');
  const path = file ?? process.env.TOLLGATE_CONFIG;
  if (path) return { config: loadConfigFile(path), source: path };
  const d = defaultConfig();
  return { config: d.config, demoKey: d.demoKey, source: 'embedded defaults' };
}

/** How many workers: flag, then config, then the CPU count; 1 with the in-memory ledger. */
export async function workerCount(flag: string | undefined, config: Config): Promise<{ workers: number; reason?: string; requested: boolean }> {
  const requested = flag !== undefined || config.workers !== undefined;
  let n = config.workers ?? availableParallelism();
  if (flag !== undefined) {
    n = Number(flag);
    const { ConfigError } = await import('../config/index.js');
    if (!Number.isInteger(n) || n < 1) throw new ConfigError([`--workers: a positive whole number, got "${flag}"`], 'command line');
  }
  if (n > 1 && !config.redis) return { workers: 1, requested, reason: `the in-memory ledger keeps its state in one process, so ${n} workers would each meter on their own: running 1 (configure redis: to use more)` };
  return { workers: n, requested };
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, workers: { type: 'string', short: 'w' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const loaded = await loadConfig(values.config);
  if (cluster.isPrimary) {
    const { workers, reason, requested } = await workerCount(values.workers, loaded.config);
    const { createLogger } = await import('../proxy/logger.js');
    const logger = createLogger(loaded.config.logging.level);
    // A count the operator asked for and cannot have is a warning; the CPU-count default, a note.
    if (reason) {
      logger[requested ? 'warn' : 'info']({ workers }, reason);
      logger.flush(); // logs are buffered; a startup warning belongs before 'tollgate listening'
    }
    if (workers > 1) {
      // Workers load the same config; a generated demo key must be the same in all of them.
      const env: Record<string, string> = loaded.demoKey ? { TOLLGATE_DEMO_KEY: loaded.demoKey } : {};
      const { runPrimary } = await import('../proxy/cluster.js');
      // A worker exits on its own by graceMs + SHUTDOWN_MARGIN_MS; SIGKILL only past that.
      const code = await runPrimary({ workers, logger, env, stopTimeoutMs: loaded.config.shutdown.graceMs + SHUTDOWN_MARGIN_MS + 1_000 });
      process.exit(code);
    }
  }
  await runApp(loaded);
}

/** How long createApp + listen may take before the start counts as failed. */
const STARTUP_TIMEOUT_MS = 15_000;

/** One app in this process (the only one, or a cluster worker). Stops gracefully on SIGTERM/SIGINT. */
async function runApp(loaded: LoadedConfig): Promise<void> {
  const { createApp } = await import('../proxy/app.js');
  const { announceReady, clusterMetricsClient, serveWorkerMetrics } = await import('../proxy/cluster.js');
  const opts: AppOptions = { config: loaded.config };
  if (cluster.isWorker) opts.metricsText = clusterMetricsClient();
  let app: Awaited<ReturnType<typeof createApp>>;
  let urls: { proxyUrl: string; adminUrl: string };
  // A Redis that accepts connections but never answers would hold the start forever: give up.
  const startTimer = setTimeout(() => {
    const where = loaded.config.redis ? 'the ledger' : 'startup';
    void fail(Object.assign(new Error(`${where} did not answer within ${STARTUP_TIMEOUT_MS / 1000} s`), { name: 'StartupTimeout' }));
  }, STARTUP_TIMEOUT_MS);
  const fail = async (err: unknown): Promise<never> => {
    // One line naming what failed and where, then a non-zero exit (a worker's code tells the
    // primary not to re-fork it). No stack: this is the operator's message, not a bug report.
    const { describeStartupFailure } = await import('./startup-failure.js');
    const { STARTUP_FAILURE_EXIT_CODE } = await import('../proxy/cluster.js');
    process.stderr.write(`${describeStartupFailure(err, loaded.config)}\n`);
    process.exit(cluster.isWorker ? STARTUP_FAILURE_EXIT_CODE : 1);
  };
  try {
    app = await createApp(opts);
    urls = await app.listen();
  } catch (err) {
    return fail(err);
  } finally {
    clearTimeout(startTimer);
  }
  if (cluster.isWorker) serveWorkerMetrics(app.metrics.registry);
  const { proxyUrl, adminUrl } = urls;
  app.logger.info({ proxyUrl, adminUrl, ledger: app.ledger.kind, config: loaded.source, worker: cluster.worker?.id }, 'tollgate listening');
  // Logs are buffered; supervisors and health scripts wait for this line, so write it now.
  app.logger.flush();
  if (cluster.isWorker) announceReady();
  if (loaded.demoKey && (cluster.worker?.id ?? 1) === 1) {
    process.stderr.write(
      `\ntollgate is running on the embedded defaults (${app.ledger.kind} ledger, demo account "demo", Free tier).\n` +
        `  proxy: ${proxyUrl}    admin: ${adminUrl}\n\n` +
        `  demo key: ${loaded.demoKey}\n\n` +
        `Try it (a BYOK call, billed to your own OpenAI key):\n` +
        `  curl ${proxyUrl}/openai/v1/chat/completions \\\n` +
        `    -H "Authorization: Bearer ${loaded.demoKey}" -H "X-Provider-Key-OpenAI: $OPENAI_API_KEY" \\\n` +
        `    -H "Content-Type: application/json" -d '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"Hi"}]}'\n` +
        `  curl ${adminUrl}/v1/usage -H "Authorization: Bearer ${loaded.demoKey}"\n\n` +
        `Set OPENAI_API_KEY (etc.) before starting to serve metered calls on the platform key; see README.md.\n` +
        `No provider at hand? \`npm run demo\` walks through metered calls against local stand-ins.\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    // Always within graceMs + SHUTDOWN_MARGIN_MS (an orchestrator's stop timeout is counted from here).
    setTimeout(() => {
      app.logger.error('graceful stop overran its margin: exiting');
      app.logger.flush();
      process.exit(1);
    }, loaded.config.shutdown.graceMs + SHUTDOWN_MARGIN_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A worker whose primary is gone has no one to restart it or pass signals: stop.
  if (cluster.isWorker) process.on('disconnect', () => stop('primary gone'));
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case undefined:
      return serve([]);
    case 'serve':
      return serve(rest);
    case 'demo': {
      const { runDemo } = await import('../proxy/demo/run.js');
      process.exitCode = await runDemo();
      return;
    }
    case 'ledger':
      process.exitCode = await runLedgerCommand(rest);
      return;
    case 'accounts':
    case 'keys':
    case 'byok':
    case 'usage':
    case 'audit':
    case 'dashboard':
      process.exitCode = await runAdminCommand(cmd, rest);
      return;
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return;
    default:
      if (cmd.startsWith('-')) return serve([cmd, ...rest]);
      console.error(`tollgate: unknown command "${cmd}"\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  if ((err as Error | null)?.name === 'ConfigError') console.error((err as Error).message);
  else console.error(err);
  process.exit(1);
});
