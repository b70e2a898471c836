// The ledger's pub/sub: key revocations and account-terms changes heard from every process,
// and the loss of messages while the subscriber was down.

import { isCluster, type RedisClient } from './connection.js';
import type { Logger } from 'pino';
import { toLedgerError } from '../errors.js';
import type { KeyLayout } from './keys.js';

export interface PubSub {
  onKeyRevoked(listener: (keyHash: string) => void): () => void;
  onAccountChanged(listener: (accountId: string) => void): () => void;
  onMessagesLost(listener: () => void): () => void;
  /** True while both channels are subscribed (no message can be missed). */
  subscribed(): boolean;
  /** Forgets every listener (on close). */
  clear(): void;
}

export interface PubSubOptions {
  subscriber: RedisClient;
  /** SSUBSCRIBE (a cluster of Redis 7+: each channel on its shard), else SUBSCRIBE. */
  sharded?: boolean;
  keys: KeyLayout;
  logger: Logger;
  /** Called first with the id of a changed account, or undefined when messages may have been lost. */
  forget(accountId: string | undefined): void;
}

/** Subscribes both channels; rejects as a LedgerError when Redis refuses. */
export async function openPubSub({ subscriber, sharded = false, keys, logger, forget }: PubSubOptions): Promise<PubSub> {
  const channel = keys.revokedChannel;
  const accountChannel = keys.accountChannel;
  const listeners = new Set<(keyHash: string) => void>();
  const accountListeners = new Set<(accountId: string) => void>();
  const lostListeners = new Set<() => void>();
  /** Calls each listener; one that throws is logged and the others still hear it. */
  function notify<A>(set: Set<(arg: A) => void>, arg: A, what: string): void {
    for (const l of set) {
      try {
        l(arg);
      } catch (err) {
        logger.error({ err }, `${what} listener failed`);
      }
    }
  }
  // One SSUBSCRIBE per channel: the two hash to different slots (shards).
  const subscribeAll = (): Promise<unknown> =>
    sharded && isCluster(subscriber)
      ? Promise.all([subscriber.ssubscribe(channel), subscriber.ssubscribe(accountChannel)])
      : subscriber.subscribe(channel, accountChannel);
  subscriber.on(sharded ? 'smessage' : 'message', (ch: string, hash: string) => {
    if (ch === accountChannel) {
      forget(hash);
      notify(accountListeners, hash, 'account change');
      return;
    }
    if (ch === channel) notify(listeners, hash, 'key revocation');
  });
  try {
    await subscribeAll();
  } catch (err) {
    throw toLedgerError(err);
  }

  // Messages sent while the subscriber is down are lost: forget what they could have changed,
  // when the connection closes and again once the channels are subscribed anew (ioredis
  // reports `ready` before its resubscription is in force: until our own SUBSCRIBE is answered,
  // after it on the same connection, a message could still be missed).
  let subscribed = true;
  const messagesLost = () => {
    forget(undefined);
    notify(lostListeners, undefined, 'pub/sub loss');
  };
  subscriber.on('close', () => {
    subscribed = false;
    messagesLost();
  });
  let closed = false;
  let resubscribing = false;
  const resubscribe = () => {
    if (resubscribing || closed) return;
    resubscribing = true;
    // Bounded: a (sharded) subscription whose node is not there yet may never answer.
    const attempt = () =>
      Promise.race([subscribeAll(), new Promise((_, reject) => setTimeout(() => reject(new Error('resubscribe timed out')), 2000).unref())]).then(
        () => {
          resubscribing = false;
          subscribed = true;
          messagesLost();
        },
        () => {
          // the connection dropped again: the next `ready` (or a retry) tries again
          if (closed || subscriber.status !== 'ready') resubscribing = false;
          else setTimeout(attempt, 250).unref();
        },
      );
    void attempt();
  };
  subscriber.on('ready', () => {
    if (!subscribed) resubscribe();
  });
  // A cluster's subscriber connections are to some nodes (sharded: one per channel's shard),
  // which ioredis replaces (and subscribes again) when a node leaves: messages may be lost
  // meanwhile, and until our own SUBSCRIBE on the replacement is answered the old terms are
  // not trusted.
  if (isCluster(subscriber)) {
    const lost = () => {
      if (subscriber.status !== 'ready') return; // the whole client is down: `close`/`ready` cover it
      subscribed = false;
      messagesLost();
      resubscribe();
    };
    subscriber.on('-node', lost);
    subscriber.on('-subscriber', lost);
  }

  const add = <A>(set: Set<A>, l: A) => {
    set.add(l);
    return () => set.delete(l);
  };
  return {
    onKeyRevoked: (l) => add(listeners, l),
    onAccountChanged: (l) => add(accountListeners, l),
    onMessagesLost: (l) => add(lostListeners, l),
    subscribed: () => subscribed && subscriber.status === 'ready',
    clear() {
      closed = true;
      listeners.clear();
      accountListeners.clear();
      lostListeners.clear();
    },
  };
}
