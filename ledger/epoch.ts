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
// On a Redis Cluster the epoch is per shard: the same hash under 64 keys spread over the slots
// (epochKeys), so a master that comes back empty is noticed like a single Redis would be.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isCluster, type RedisClient } from './redis/connection.js';
import { spreadTags } from './redis/slots.js';
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
  client: RedisClient;
  /** The epoch's keys; default the one `epochKey` (a cluster: `epochKeys`, one per shard). */
  keys?: string[];
  keyPrefix: string;
  /** The Redis URL, for the log line (its password is redacted) and the memory file's key. */
  url: string;
  /** Where the epoch is remembered across restarts (epochs.json); none: in memory only. */
  file?: string;
  logger: Logger;
  now(): number;
}

export const epochKey = (prefix: string) => `${prefix}:ledger:epoch`;

/** Shard epoch keys on a cluster: this many, spread evenly over the slots (slots.ts). */
export const CLUSTER_EPOCH_KEYS = 64;

/**
 * The epoch's keys on this client. One Redis (plain or Sentinel): `tg:ledger:epoch`, as before.
 * A cluster: `tg:ledger:epoch:{TAG}` for 64 tags spread over the slot space, every one
 * holding the same epoch, so each master holds some (any master owning 256 slots in a row
 * does) and a master that comes back empty is noticed; the keys move with their slots on a
 * resharding, so a topology change is not mistaken for a loss.
 */
export function epochKeys(client: RedisClient, prefix: string): string[] {
  return isCluster(client) ? spreadTags(CLUSTER_EPOCH_KEYS).map((t) => `${prefix}:ledger:epoch:{${t}}`) : [epochKey(prefix)];
}

/** The URL without its password (user and password become ***). */
export function redactUrl(url: string): string {
  // A cluster's seeds or a sentinel group, as connection.ts names them: no credentials in them.
  if (/^redis-(cluster|sentinel):\/\//.test(url)) return url;
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
  const keys = o.keys ?? [epochKey(o.keyPrefix)];
  const logger = o.logger.child({ component: 'epoch' });
  let known: string | undefined = (await readEpochMemory(o.file))[memoryKey(o.url, o.keyPrefix)];
  let lostWhy: string | undefined;
  let served: string | undefined;
  const read = () => Promise.all(keys.map((k) => o.client.hgetall(k)));

  async function adoptAs(id: string): Promise<void> {
    served = known = id;
    await rememberEpoch(o.file, o.url, o.keyPrefix, id).catch((err: unknown) => logger.warn({ err }, 'could not remember the ledger epoch on disk'));
  }

  return {
    lost: () => lostWhy,
    id: () => served,
    async check() {
      let curs = await read();
      if (known === undefined && curs.some((c) => !c.id)) {
        // Never seen a ledger on this Redis: a new one (or one from before epochs). Two
        // processes starting at once write one epoch (HSETNX on the first key), and both
        // adopt it; on a cluster it is copied to every shard's key (a start cut short
        // between them is completed by the next).
        let seed = curs.find((c) => c.id);
        if (!seed) {
          await o.client.hsetnx(keys[0]!, 'id', randomBytes(8).toString('hex'));
          await o.client.hsetnx(keys[0]!, 'since', String(o.now()));
          seed = curs[0] = await o.client.hgetall(keys[0]!);
          logger.info({ epoch: seed.id }, 'ledger epoch created');
        }
        await Promise.all(
          keys.map(async (k, i) => {
            if (curs[i]!.id) return;
            await o.client.hsetnx(k, 'id', seed.id!);
            await o.client.hsetnx(k, 'since', seed.since ?? String(o.now()));
            if (seed.from) await o.client.hsetnx(k, 'from', seed.from);
          }),
        );
        curs = await read();
      }
      const accepts = (cur: Record<string, string>) =>
        !!cur.id && (known === undefined ? cur.id === curs[0]!.id : cur.id === known || (cur.from ?? '').split(',').includes(known));
      if (curs.every(accepts)) {
        const id = curs[0]!.id!;
        if (lostWhy) logger.warn({ epoch: id, previous: known }, 'the ledger epoch is back: serving again');
        lostWhy = undefined;
        if (id !== served) await adoptAs(id);
        return true;
      }
      const missing = curs.filter((c) => !c.id).length;
      const other = curs.find((c) => c.id && !accepts(c))?.id;
      const where = redactUrl(o.url);
      let why: string;
      if (keys.length === 1) {
        why = other
          ? `the ledger at ${where} has epoch ${other}, not ${known}: a different or reset ledger`
          : `the ledger came back empty: Redis at ${where} has no epoch (expected ${known}); it lost its data (restarted without persistence, or flushed)`;
      } else {
        why = missing
          ? `the ledger came back empty: ${missing} of the ${keys.length} shard epoch keys at ${where} are gone (expected ${known}); a shard lost its data (a master restarted without persistence or replica, or flushed)`
          : `the ledger at ${where} has epoch ${other} on some shards, not ${known}: a different or reset ledger`;
      }
      if (lostWhy !== why) {
        lostWhy = why;
        logger.error({ redis: where, expected: known, found: other ?? null, missingKeys: missing }, `${why}. Metered requests get 503 ledger_unavailable and settles wait in the journal until an operator runs \`tollgate ledger adopt-epoch\` (docs/reliability.md)`);
      }
      return false;
    },
  };
}

/**
 * The operator's way out (`tollgate ledger adopt-epoch`): a new epoch that names the ones it
 * replaces, so running processes that knew them serve again. Written to every epoch key
 * (`keys`: one per shard on a cluster, see epochKeys). Returns the new id.
 */
export async function adoptEpoch(client: RedisClient, keyPrefix: string, replaced: string[], now: number, keys = [epochKey(keyPrefix)]): Promise<string> {
  const curs = await Promise.all(keys.map((k) => client.hgetall(k)));
  const from = new Set(replaced.filter(Boolean));
  for (const cur of curs) {
    for (const f of (cur.from ?? '').split(',').filter(Boolean)) from.add(f);
    if (cur.id) from.add(cur.id);
  }
  const id = randomBytes(8).toString('hex');
  await Promise.all(keys.map((k) => client.hset(k, { id, since: String(now), from: [...from].join(',') })));
  return id;
}
