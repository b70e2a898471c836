// Loads ledger/scripts/*.lua once, inlines `--@include` lines, and defines them as ioredis commands.
//
// tsc does not copy .lua files to dist/, so the scripts are read from the source tree:
// ../scripts beside this directory (running from source), else ../../../ledger/scripts (from
// dist/ledger/redis/). ioredis sends EVALSHA and falls back to EVAL once per connection, so a
// script costs one round trip.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from './connection.js';

/**
 * Script file name (without .lua) → number of KEYS it declares. The request path's batch
 * scripts (one account's entries per call) declare the account's five keys, three marker
 * windows, the usage history's two buckets and receipts list, and its alert key
 * (lib/alerts.lua); their entries are arguments.
 */
export const SCRIPTS = {
  reserve: 12,
  settle: 12,
  usage: 12,
  'set-period': 3,
  'account-ensure': 2,
  'account-update': 1,
  'outbox-prepare': 4,
  'outbox-commit': 2,
  'outbox-clean': 2,
  'lease-release': 1,
  'key-revoke': 1,
  'session-open': 1,
  'session-renew': 1,
  receipts: 2,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

function scriptsDir(): string {
  const candidates = [new URL('../scripts/', import.meta.url), new URL('../../../ledger/scripts/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(`${dir}reserve.lua`)) return dir;
  }
  throw new Error(`ledger scripts not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
}

let cache: Record<ScriptName, string> | undefined;

/** Every script's source with its includes inlined. Read from disk once per process. */
export function loadScripts(): Record<ScriptName, string> {
  if (cache) return cache;
  const dir = scriptsDir();
  const read = (file: string, seen: Set<string>): string => {
    if (seen.has(file)) throw new Error(`ledger script include cycle at ${file}`);
    const src = readFileSync(`${dir}${file}`, 'utf8');
    return src.replace(/^--@include (\S+)[ \t]*$/gm, (_line, inc: string) => read(inc, new Set([...seen, file])));
  };
  const out = {} as Record<ScriptName, string>;
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) out[name] = read(`${name}.lua`, new Set());
  cache = out;
  return out;
}

/** The command name a script is defined under on a client. */
export function commandName(name: ScriptName): string {
  return `tollgate_${name.replace(/-/g, '_')}`;
}

/** The request path's scripts, sent by directScript (EVALSHA straight), not defined on the client. */
const DIRECT: ReadonlySet<ScriptName> = new Set(['reserve', 'settle']);

export function defineScripts(client: RedisClient): void {
  const scripts = loadScripts();
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    if (DIRECT.has(name)) continue; // sent by directScript only
    client.defineCommand(commandName(name), { lua: scripts[name], numberOfKeys: SCRIPTS[name] });
  }
}

/** Run a defined script: keys first, then args. */
export function runScript(client: RedisClient, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
  if (keys.length !== SCRIPTS[name]) throw new Error(`${name}.lua takes ${SCRIPTS[name]} keys, got ${keys.length}`);
  const fn = (client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[commandName(name)];
  if (!fn) throw new Error(`ledger script ${name} is not defined on this client`);
  return fn.call(client, ...keys, ...args);
}

/**
 * A script for the request path: EVALSHA straight through the client, EVAL once when Redis
 * answers NOSCRIPT (a restarted or flushed server). ioredis's defined commands wrap every call
 * in a second command class, a re-jected promise chain and a callback adapter: about a fifth of
 * the ledger's client CPU per call in the bench profile.
 */
export function directScript(client: RedisClient, name: ScriptName): (keys: string[], args: (string | number)[]) => Promise<unknown> {
  const lua = loadScripts()[name];
  const sha = createHash('sha1').update(lua).digest('hex');
  const want = SCRIPTS[name];
  return (keys, args) => {
    const n = keys.length;
    if (n !== want) return Promise.reject(new Error(`${name}.lua takes ${want} keys, got ${n}`));
    return client.evalsha(sha, n, ...keys, ...args).catch((err: Error) => {
      if (!String(err?.message).includes('NOSCRIPT')) throw err;
      return client.eval(lua, n, ...keys, ...args);
    });
  };
}
