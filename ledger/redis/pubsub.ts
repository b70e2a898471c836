// The ledger's pub/sub: key revocations and account-terms changes heard from every process,
// and the loss of messages while the subscriber was down.

import type { Redis } from 'ioredis';
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
  subscriber: Redis;
  keys: KeyLayout;
  logger: Logger;
  /** Called first with the id of a changed account, or undefined when messages may have been lost. */
  forget(accountId: string | undefined): void;
}

/** Subscribes both channels; rejects as a LedgerError when Redis refuses. */
export async function openPubSub({ subscriber, keys, logger, forget }: PubSubOptions): Promise<PubSub> {
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
  subscriber.on('message', (ch: string, hash: string) => {
    if (ch === accountChannel) {
      forget(hash);
      notify(accountListeners, hash, 'account change');
      return;
    }
    if (ch === channel) notify(listeners, hash, 'key revocation');
  });
  try {
    await subscriber.subscribe(channel, accountChannel);
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
  subscriber.on('ready', () => {
    if (subscribed) return;
    subscriber.subscribe(channel, accountChannel).then(
      () => {
        subscribed = true;
        messagesLost();
      },
      () => {
        // the connection dropped again: the next `ready` tries again
      },
    );
  });

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
      listeners.clear();
      accountListeners.clear();
      lostListeners.clear();
    },
  };
}
