// The backstop sweep: every account found by scanning each master of the ledger's Redis (one
// node, or every master of a cluster) for account hashes, whatever the indexes say.
//
// The account index (tg:accounts) and the pending set (tg:overage:pending) are single keys,
// written after an account's script (a script may touch only its own slot): a crash between
// the two leaves an account out of them. The flusher's periodic full run adds what this finds,
// so such an account's overage is still reported. SCAN is per node; a node that fails mid-scan
// (a failover, a resharding) is left for the next round, which re-reads the masters (a
// promoted replica holds the same keys) and scans what was not finished.

import { setTimeout as sleep } from 'node:timers/promises';
import { isCluster, masters, type RedisClient } from './connection.js';
import type { KeyLayout } from './keys.js';

const ROUNDS = 4;

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** The ids of every account hash on every master; rejects when a master stayed unreachable. */
export async function scanAccountIds(client: RedisClient, keys: KeyLayout): Promise<string[]> {
  const pattern = `${globEscape(keys.prefix)}:{acct:*}:acct`;
  const head = `${keys.prefix}:{acct:`;
  const ids = new Set<string>();
  const done = new Set<string>();
  let lastErr: unknown;
  for (let round = 0; round < ROUNDS; round++) {
    const nodes = masters(client);
    const todo = nodes.filter((n) => !done.has(`${n.options.host}:${n.options.port}`));
    if (todo.length === 0 && round > 0) return [...ids];
    let failed = false;
    await Promise.all(
      todo.map(async (node) => {
        try {
          let cursor = '0';
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
            cursor = next;
            for (const k of found) if (k.startsWith(head) && k.endsWith('}:acct')) ids.add(k.slice(head.length, -'}:acct'.length));
          } while (cursor !== '0');
          done.add(`${node.options.host}:${node.options.port}`);
        } catch (err) {
          failed = true;
          lastErr = err;
        }
      }),
    );
    if (!failed) {
      // A master listed now that was not before (a promotion during the scan): another round.
      const now = masters(client).map((n) => `${n.options.host}:${n.options.port}`);
      if (now.every((a) => done.has(a))) return [...ids];
    } else if (isCluster(client)) {
      await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
      await sleep(250 * (round + 1));
    } else break;
  }
  throw lastErr ?? new Error('the ledger sweep could not scan every master');
}
