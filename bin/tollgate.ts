#!/usr/bin/env node
// The tollgate command: `serve` (default) runs the proxy and admin port; other subcommands
// manage accounts and keys or run the demo.

import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/index.js';
import { defaultConfig } from '../config/defaults.js';
import type { Config } from '../config/schema.js';
import { createApp } from '../proxy/app.js';

const USAGE = `usage: tollgate [serve] [--config FILE]
       tollgate --help

  serve            run the proxy (default 127.0.0.1:8080) and the admin port (127.0.0.1:8081)
  --config FILE    YAML config (also TOLLGATE_CONFIG); without one, the embedded defaults:
                   in-memory ledger and a demo account`;

export interface LoadedConfig {
  config: Config;
  demoKey?: string;
  source: string;
}

export function loadConfig(file: string | undefined): LoadedConfig {
  const path = file ?? process.env.TOLLGATE_CONFIG;
  if (path) return { config: loadConfigFile(path), source: path };
  const d = defaultConfig();
  return { config: d.config, demoKey: d.demoKey, source: 'embedded defaults' };
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const loaded = loadConfig(values.config);
  const app = await createApp({ config: loaded.config });
  const { proxyUrl, adminUrl } = await app.listen();
  app.logger.info({ proxyUrl, adminUrl, ledger: app.ledger.kind, config: loaded.source }, 'tollgate listening');
  if (loaded.demoKey) {
    process.stderr.write(
      `\ntollgate is running on the embedded defaults (${app.ledger.kind} ledger, demo account "demo", Free tier).\n` +
        `  proxy: ${proxyUrl}    admin: ${adminUrl}\n\n` +
        `  demo key: ${loaded.demoKey}\n\n` +
        `Try it (a BYOK call, billed to your own OpenAI key):\n` +
        `  curl ${proxyUrl}/openai/v1/chat/completions \\\n` +
        `    -H "Authorization: Bearer ${loaded.demoKey}" -H "X-Provider-Key-OpenAI: $OPENAI_API_KEY" \\\n` +
        `    -H "Content-Type: application/json" -d '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"Hi"}]}'\n` +
        `  curl ${adminUrl}/v1/usage -H "Authorization: Bearer ${loaded.demoKey}"\n\n` +
        `Set OPENAI_API_KEY (etc.) before starting to serve metered calls on the platform key; see README.md.\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
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
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case undefined:
      return serve([]);
    case 'serve':
      return serve(rest);
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
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
