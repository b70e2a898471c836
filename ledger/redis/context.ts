// What the Redis ledger's parts share: the client, the key layout, the guard and the scripts.

import type { RedisClient } from './connection.js';
import type { Logger } from 'pino';
import type { TierId } from '../../pricing/types.js';
import type { TierParams } from '../account-state.js';
import type { Clock } from '../types.js';
import type { KeyLayout } from './keys.js';
import { runScript, type ScriptName } from './scripts.js';

export type Reply = (string | number | null)[];

export interface LedgerContext {
  client: RedisClient;
  keys: KeyLayout;
  clock: Clock;
  logger: Logger;
  idemTtl: number;
  tiers: Record<TierId, TierParams>;
  /** The tier table as the scripts take it (an argument). */
  tierArg: string;
  /** Every Redis call goes through here: transport failures become `ledger_unavailable`. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs a defined script: keys first, then args. */
  script(name: ScriptName, keys: string[], args: (string | number)[]): Promise<Reply>;
  tierOf(id: string | undefined): TierParams;
  /**
   * True when messages go by sharded pub/sub (a cluster of Redis 7+): scripts are given ''
   * for their channels and the caller publishes after them (publish below).
   */
  sharded: boolean;
  /** Sends a revocation or account-change message (SPUBLISH when sharded, else PUBLISH). */
  publish(channel: string, message: string): Promise<unknown>;
}

export function scriptRunner(client: RedisClient): LedgerContext['script'] {
  return (name, keys, args) => runScript(client, name, keys, args) as Promise<Reply>;
}
