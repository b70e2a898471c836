// The ledger's identity: an epoch id in Redis, remembered on disk, so a Redis that comes back empty
// (restarted without persistence, flushed, replaced) is noticed and never served as a new ledger.
//
// `tg:ledger:epoch` HASH { id, since, from }: written once, when a process first finds no epoch
// and has never known one for this Redis (a new ledger, or one from before epochs); `from`
// lists the epochs an operator replaced by this one (`tollgate ledger adopt-epoch`). Every
// process remembers the id it serves under, in memory and in `epochs.json` in its journal dir
// (keyed by Redis address and key prefix), and checks it at start, on every reconnect and
// every `checkMs`. Missing or different (and not adopted from ours): the ledger is lost, and
// stays lost until the operator adopts the new state (docs/reliability.md, "An empty Redis").

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface EpochGuard {
  /** Reads (or, for a ledger never seen, writes) the epoch; throws when Redis is unreachable. */
  check(): Promise<boolean>;
  /** Why the ledger is not the one this process knew, or undefined when it is. */
  lost(): string | undefined;
  /** The epoch served under. */
  id(): string | undefined;
}

export interface EpochOptions {
  client: Redis;
  keyPrefix: string;
  /** The Redis URL, for the log line (its password is redacted) and the memory file's key. */
  url: string;
  /** Where the epoch is remembered across restarts (epochs.json); none: in memory only. */
  file?: string;
  logger: Logger;
  now(): number;
}

export const epochKey = (prefix: string) => `${prefix}:ledger:epoch`;

/** The URL without its password (user and password become ***). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password || u.username) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The memory file's key for a ledger: its Redis address, database and prefix (no credentials). */
export function memoryKey(url: string, prefix: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : '/0'}|${prefix}`;
  } catch {
    return `${url}|${prefix}`;
  }
}

export async function readEpochMemory(file: string | undefined): Promise<Record<string, string>> {
  if (!file) return {};
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export async function rememberEpoch(file: string | undefined, url: string, prefix: string, id: string): Promise<void> {
  if (!file) return;
  const all = await readEpochMemory(file);
  const k = memoryKey(url, prefix);
  if (all[k] === id) return;
  all[k] = id;
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(all, null, 2));
  await rename(tmp, file);
}

export async function createEpochGuard(o: EpochOptions): Promise<EpochGuard> {
  const key = epochKey(o.keyPrefix);
  const logger = o.logger.child({ component: 'epoch' });
  let known: string | undefined = (await readEpochMemory(o.file))[memoryKey(o.url, o.keyPrefix)];
  let lostWhy: string | undefined;
  let served: string | undefined;

  async function adoptAs(id: string): Promise<void> {
    served = known = id;
    await rememberEpoch(o.file, o.url, o.keyPrefix, id).catch((err: unknown) => logger.warn({ err }, 'could not remember the ledger epoch on disk'));
  }

  return {
    lost: () => lostWhy,
    id: () => served,
    async check() {
      let cur = await o.client.hgetall(key);
      if (!cur.id && known === undefined) {
        // Never seen a ledger on this Redis: a new one (or one from before epochs). Two
        // processes starting at once write one epoch (HSETNX), and both adopt it.
        await o.client.hsetnx(key, 'id', randomBytes(8).toString('hex'));
        await o.client.hsetnx(key, 'since', String(o.now()));
        cur = await o.client.hgetall(key);
        logger.info({ epoch: cur.id }, 'ledger epoch created');
      }
      const from = (cur.from ?? '').split(',').filter(Boolean);
      if (cur.id && (known === undefined || cur.id === known || from.includes(known))) {
        if (lostWhy) logger.warn({ epoch: cur.id, previous: known }, 'the ledger epoch is back: serving again');
        lostWhy = undefined;
        if (cur.id !== served) await adoptAs(cur.id);
        return true;
      }
      const why = cur.id
        ? `the ledger at ${redactUrl(o.url)} has epoch ${cur.id}, not ${known}: a different or reset ledger`
        : `the ledger came back empty: Redis at ${redactUrl(o.url)} has no epoch (expected ${known}); it lost its data (restarted without persistence, or flushed)`;
      if (lostWhy !== why) {
        lostWhy = why;
        logger.error({ redis: redactUrl(o.url), expected: known, found: cur.id ?? null }, `${why}. Metered requests get 503 ledger_unavailable and settles wait in the journal until an operator runs \`tollgate ledger adopt-epoch\` (docs/reliability.md)`);
      }
      return false;
    },
  };
}

/**
 * The operator's way out (`tollgate ledger adopt-epoch`): a new epoch that names the ones it
 * replaces, so running processes that knew them serve again. Returns the new id.
 */
export async function adoptEpoch(client: Redis, keyPrefix: string, replaced: string[], now: number): Promise<string> {
  const key = epochKey(keyPrefix);
  const cur = await client.hgetall(key);
  const from = new Set([...(cur.from ?? '').split(',').filter(Boolean), ...replaced.filter(Boolean)]);
  if (cur.id) from.add(cur.id);
  const id = randomBytes(8).toString('hex');
  await client.hset(key, { id, since: String(now), from: [...from].join(',') });
  return id;
}
