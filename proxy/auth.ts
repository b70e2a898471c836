// Customer authentication: the tollgate key from wherever the provider's SDK puts its key,
// hashed (SHA-256) and resolved through a cache so steady-state requests make no Redis call.
// Revocations arrive through the ledger's pub/sub and evict at once; entries also expire, and
// all go when the pub/sub connection drops (messages sent meanwhile are lost).

import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock, Ledger } from '../ledger/types.js';
import type { ClientAuth } from './providers/types.js';

export function hashKey(key: string): string {
  // crypto.hash (Node 20.12+): one call, no Hash object (590 -> 243 ns per key measured).
  return hash('sha256', key, 'hex');
}

/** The customer's key as its SDK sends it, from the places `auth` allows; undefined if none. */
export function extractClientKey(headers: IncomingHttpHeaders, auth: readonly ClientAuth[]): string | undefined {
  const authz = headers.authorization;
  if (typeof authz === 'string') {
    const sp = authz.indexOf(' ');
    if (sp > 0) {
      const scheme = authz.slice(0, sp).toLowerCase();
      const token = authz.slice(sp + 1).trim();
      if (token && ((scheme === 'bearer' && auth.includes('bearer')) || (scheme === 'token' && auth.includes('token')) || (scheme === 'basic' && auth.includes('basic')))) {
        return token;
      }
    }
  }
  for (const h of auth) {
    if (h === 'x-api-key' || h === 'xi-api-key' || h === 'api-key' || h === 'x-access-token') {
      const v = headers[h];
      if (typeof v === 'string' && v !== '') return v;
    }
  }
  // A bearer token is the universal fallback (curl users, the admin API's convention).
  if (typeof authz === 'string' && /^bearer /i.test(authz)) return authz.slice(7).trim() || undefined;
  return undefined;
}

/** Who a customer key speaks for. The cached entry itself: no allocation per request. */
export interface Principal {
  readonly accountId: string;
  /** The key's public id (12 hex characters of its hash), for logs and the audit log. */
  readonly keyId: string;
  /** The account's tier when the key was resolved (a metrics label). */
  readonly tier: string;
  /** Suspended accounts are refused (403 account_suspended) before anything else happens. */
  readonly suspended: boolean;
}

interface Entry extends Principal {
  hash: Buffer;
  expires: number;
}

export interface Authenticator {
  /** The key's owner (suspended or not), or null for an unknown or revoked key. */
  resolvePrincipal(key: string): Promise<Principal | null>;
  /** The same from the cache without waiting: undefined when not cached (then resolvePrincipal). */
  cachedPrincipal(key: string): Principal | undefined;
  /** The account for a customer key, or null (also for a suspended account). */
  resolve(key: string): Promise<string | null>;
  /** The account for a key in the cache, without waiting: undefined when not cached (then resolve). */
  cached(key: string): string | undefined;
  /** Drops every cached entry (e.g. after a lost pub/sub connection). */
  clear(): void;
  close(): void;
}

export interface AuthOptions {
  ledger: Ledger;
  clock: Clock;
  /** Backstop lifetime of a cached key, should a revocation message be lost. */
  ttlMs?: number;
  maxEntries?: number;
}

export function createAuthenticator(o: AuthOptions): Authenticator {
  const ttl = o.ttlMs ?? 10_000;
  const max = o.maxEntries ?? 100_000;
  const cache = new Map<string, Entry>();
  const unsubscribe = o.ledger.onKeyRevoked((hash) => cache.delete(hash));
  // Revocations published while the pub/sub connection was down never arrive: start afresh.
  const unsubscribeLost = o.ledger.onMessagesLost?.(() => cache.clear());
  // The map is keyed by the hash; the stored hash is still compared in constant time.
  const hitFor = (hex: string, now: number): Entry | undefined => {
    const hit = cache.get(hex);
    return hit && hit.expires > now && timingSafeEqual(hit.hash, Buffer.from(hex, 'hex')) ? hit : undefined;
  };
  async function resolvePrincipal(key: string): Promise<Principal | null> {
    const hex = hashKey(key);
    const now = o.clock.now();
    const hit = hitFor(hex, now);
    if (hit) return hit;
    const found = await o.ledger.resolveKey(hex);
    if (!found) {
      cache.delete(hex);
      return null;
    }
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    const entry: Entry = { accountId: found.accountId, keyId: found.keyId, tier: found.tier ?? 'free', suspended: found.suspended === true, hash: Buffer.from(hex, 'hex'), expires: now + ttl };
    cache.set(hex, entry);
    return entry;
  }
  return {
    resolvePrincipal,
    cachedPrincipal(key) {
      return hitFor(hashKey(key), o.clock.now());
    },
    cached(key) {
      const hit = hitFor(hashKey(key), o.clock.now());
      return hit && !hit.suspended ? hit.accountId : undefined;
    },
    async resolve(key) {
      const p = await resolvePrincipal(key);
      return p && !p.suspended ? p.accountId : null;
    },
    clear() {
      cache.clear();
    },
    close() {
      unsubscribe();
      unsubscribeLost?.();
    },
  };
}
