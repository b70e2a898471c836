// The audit log: who changed what on which account, with the state before and after. Bounded:
// the newest AUDIT_PER_ACCOUNT entries of each account and AUDIT_GLOBAL overall.
//
// Redis: two capped streams, entry field `e` = the entry as JSON (without its id):
//   tg:{acct:ID}:audit   STREAM  one account's entries (hash-tagged with the account's keys)
//   tg:audit             STREAM  every entry
// An entry's id is its stream id (`ms-seq`), so a page's last id is the next page's cursor.

import type { RedisClient } from './redis/connection.js';
import type { Logger } from 'pino';
import type { AuditEntry, AuditLog, AuditQuery, Clock } from './types.js';

export const AUDIT_PER_ACCOUNT = 1_000;
export const AUDIT_GLOBAL = 10_000;
export const AUDIT_MAX_PAGE = 1_000;

type Draft = Omit<AuditEntry, 'id' | 'at'>;

/** The id just before `id` (XREVRANGE's end is inclusive; `(id` needs Redis 6.2). */
function before(id: string): string | null {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) return null;
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-18446744073709551615` : null;
}

const page = (q: AuditQuery) => Math.max(1, Math.min(AUDIT_MAX_PAGE, Math.floor(q.limit)));

export function createMemoryAuditLog(clock: Clock): AuditLog {
  const all: AuditEntry[] = [];
  const byAccount = new Map<string, AuditEntry[]>();
  let lastMs = 0;
  let seq = 0;
  const push = (list: AuditEntry[], e: AuditEntry, max: number) => {
    list.push(e);
    if (list.length > max) list.splice(0, list.length - max);
  };
  return {
    async append(draft: Draft) {
      const at = clock.now();
      if (at > lastMs) {
        lastMs = at;
        seq = 0;
      } else seq++;
      const e: AuditEntry = { id: `${lastMs}-${seq}`, at, ...draft };
      push(all, e, AUDIT_GLOBAL);
      let list = byAccount.get(draft.accountId);
      if (!list) byAccount.set(draft.accountId, (list = []));
      push(list, e, AUDIT_PER_ACCOUNT);
      return e;
    },
    async read(q) {
      const list = q.accountId === undefined ? all : (byAccount.get(q.accountId) ?? []);
      const n = page(q);
      let end = list.length;
      if (q.cursor !== undefined) {
        const [cms, cseq] = q.cursor.split('-').map(Number) as [number, number];
        while (end > 0) {
          const [ms, s] = list[end - 1]!.id.split('-').map(Number) as [number, number];
          if (ms < cms || (ms === cms && s < cseq)) break;
          end--;
        }
      }
      const entries = list.slice(Math.max(0, end - n), end).reverse();
      return { entries, next: entries.length === n && end - n > 0 ? entries[entries.length - 1]!.id : null };
    },
  };
}

export interface RedisAuditOptions {
  client: RedisClient;
  prefix: string;
  clock: Clock;
  /** The account's key name for its stream: `tg:{acct:ID}:audit`. */
  accountKey(accountId: string): string;
  /** Maps transport errors to ledger errors. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
}

export function createRedisAuditLog(o: RedisAuditOptions): AuditLog {
  const globalKey = `${o.prefix}:audit`;
  const parse = (id: string, fields: string[]): AuditEntry | null => {
    const i = fields.indexOf('e');
    if (i < 0 || i + 1 >= fields.length) return null;
    try {
      return { ...(JSON.parse(fields[i + 1]!) as Omit<AuditEntry, 'id'>), id };
    } catch {
      return null;
    }
  };
  return {
    append(draft: Draft) {
      return o.guard(async () => {
        const at = o.clock.now();
        const json = JSON.stringify({ at, ...draft });
        // Two slots on Redis Cluster (the account's and the global stream): two commands.
        const [id] = await Promise.all([
          o.client.xadd(globalKey, 'MAXLEN', '~', String(AUDIT_GLOBAL), '*', 'e', json),
          o.client.xadd(o.accountKey(draft.accountId), 'MAXLEN', '~', String(AUDIT_PER_ACCOUNT), '*', 'e', json),
        ]);
        return { id: id!, at, ...draft };
      });
    },
    read(q) {
      return o.guard(async () => {
        const key = q.accountId === undefined ? globalKey : o.accountKey(q.accountId);
        const n = page(q);
        const end = q.cursor === undefined ? '+' : before(q.cursor);
        if (end === null) return { entries: [], next: null };
        const rows = (await o.client.xrevrange(key, end, '-', 'COUNT', n)) as Array<[string, string[]]>;
        const entries = rows.map(([id, f]) => parse(id, f)).filter((e): e is AuditEntry => e !== null);
        return { entries, next: rows.length === n ? rows[rows.length - 1]![0] : null };
      });
    },
  };
}

/** Appends an entry and writes it as one `audit` log line; a ledger failure is logged, not thrown (the change itself is done). */
export async function recordAudit(log: AuditLog, logger: Pick<Logger, 'info' | 'error'>, draft: Draft): Promise<void> {
  try {
    const entry = await log.append(draft);
    logger.info({ audit: entry }, 'audit');
  } catch (err) {
    logger.error({ audit: draft, err }, 'audit entry not stored');
  }
}
