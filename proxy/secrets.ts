// Stored BYOK keys: sealed with AES-256-GCM under the operator's master key, kept in the ledger
// as opaque strings, and decrypted into a short-lived per-account cache for the pipeline.
//
// Sealed format (all parts base64url, joined by '.'):  v1.<kid>.<iv>.<tag>.<ciphertext>
//   kid  the first 8 bytes of SHA-256("tollgate-byok-kid:" + master key): names the master key
//        without revealing it, so `byok.previousMasterKeys` can still open old entries;
//   iv   12 random bytes (NIST SP 800-38D §8.2.2: random 96-bit IVs; a few million seals per
//        key is far below the 2^32 limit);
//   AAD  "<accountId>/<provider>": a sealed value copied to another account or provider
//        fails to open instead of being used there.
// Rotation: put the new key in `byok.masterKey` and the old one in `byok.previousMasterKeys`.
// Entries are re-sealed under the new key when next read (lazily) or all at once with
// `POST /admin/byok/rotate` (`tollgate byok rotate`); then the old key can be dropped.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, Ledger } from '../ledger/types.js';

const VERSION = 'v1';
/** How long a decrypted key (or its absence) is trusted before the ledger is asked again. */
export const DEFAULT_STORED_KEY_TTL_MS = 5_000;
const MAX_CACHE_ENTRIES = 100_000;

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

/** A 32-byte key from 64 hex characters or base64 / base64url (44 or 43 characters). */
export function parseMasterKey(text: string, what = 'byok.masterKey'): Buffer {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) return b;
  }
  throw new MasterKeyError(`${what} must be 32 bytes as 64 hex characters or base64 (e.g. \`openssl rand -base64 32\`)`);
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('tollgate-byok-kid:').update(key).digest().subarray(0, 8).toString('base64url');
}

export interface SecretBox {
  /** The id of the key new values are sealed under. */
  readonly kid: string;
  seal(plaintext: string, aad: string): string;
  /** The plaintext and whether it was sealed under an older key (re-seal it). Throws if it cannot be opened. */
  open(sealed: string, aad: string): { plaintext: string; stale: boolean };
}

export function createSecretBox(masterKey: string, previousMasterKeys: readonly string[] = []): SecretBox {
  const current = parseMasterKey(masterKey);
  const kid = masterKeyId(current);
  const keys = new Map<string, Buffer>([[kid, current]]);
  previousMasterKeys.forEach((k, i) => {
    const b = parseMasterKey(k, `byok.previousMasterKeys.${i}`);
    const id = masterKeyId(b);
    if (!keys.has(id)) keys.set(id, b);
  });
  return {
    kid,
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', current, iv);
      c.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return [VERSION, kid, iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(sealed, aad) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== VERSION) throw new MasterKeyError('not a sealed tollgate secret');
      const [, id, iv, tag, ct] = parts as [string, string, string, string, string];
      const key = keys.get(id);
      if (!key) throw new MasterKeyError(`sealed under master key ${id}, which is neither byok.masterKey nor in byok.previousMasterKeys`);
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        const plaintext = Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
        return { plaintext, stale: id !== kid };
      } catch (err) {
        throw new MasterKeyError('the sealed secret failed authentication (tampered, or moved to another account or provider)', { cause: err });
      }
    },
  };
}

export interface KeyStore {
  /** False without a master key: nothing can be stored (PUT answers 501). */
  readonly writable: boolean;
  /** The decrypted stored key for (account, provider), or null; cached (see DEFAULT_STORED_KEY_TTL_MS). */
  get(accountId: string, provider: string): Promise<string | null>;
  /** What get() would answer from the cache, without waiting; undefined when not cached. */
  peek(accountId: string, provider: string): string | null | undefined;
  put(accountId: string, provider: string, key: string): Promise<void>;
  delete(accountId: string, provider: string): Promise<boolean>;
  list(accountId: string): Promise<string[]>;
  /** Re-seals every stored key not sealed under the current master key. */
  rotate(): Promise<{ accounts: number; keys: number; resealed: number; failed: number }>;
  /** Drops the cache (all entries, or one account's). */
  invalidate(accountId?: string): void;
}

export interface KeyStoreOptions {
  ledger: Ledger;
  /** Absent: storage disabled (reads of existing entries fail, writes answer 501). */
  box: SecretBox | undefined;
  clock: Clock;
  logger: Logger;
  ttlMs?: number;
}

/** Ledger secret names are the provider id; the AAD binds a value to its account and provider. */
const aadOf = (accountId: string, provider: string) => `${accountId}/${provider}`;

export function createKeyStore(o: KeyStoreOptions): KeyStore {
  const { ledger, box, clock, logger } = o;
  const ttl = o.ttlMs ?? DEFAULT_STORED_KEY_TTL_MS;
  // accountId -> provider -> { value, expires }. Absence (null) is cached too: most accounts
  // store nothing, and the pipeline asks on every request without a header key.
  const cache = new Map<string, Map<string, { value: string | null; expires: number }>>();
  let entries = 0;
  const loading = new Map<string, Promise<string | null>>();
  /** Bumped by every write through this store, so a read that raced it is not cached. */
  let generation = 0;

  function remember(accountId: string, provider: string, value: string | null): void {
    if (entries >= MAX_CACHE_ENTRIES) {
      cache.clear();
      entries = 0;
    }
    let m = cache.get(accountId);
    if (!m) cache.set(accountId, (m = new Map()));
    if (!m.has(provider)) entries++;
    m.set(provider, { value, expires: clock.now() + ttl });
  }

  function forget(accountId: string): void {
    generation++;
    const m = cache.get(accountId);
    if (m) entries -= m.size;
    cache.delete(accountId);
  }

  async function load(accountId: string, provider: string): Promise<string | null> {
    const sealed = await ledger.getSecret(accountId, provider);
    if (sealed === null) return null;
    if (!box) throw new MasterKeyError(`a stored ${provider} key exists for ${accountId} but byok.masterKey is not set`);
    const { plaintext, stale } = box.open(sealed, aadOf(accountId, provider));
    if (stale) {
      // Lazy rotation: best effort; the value read is good either way.
      ledger.putSecret(accountId, provider, box.seal(plaintext, aadOf(accountId, provider))).catch((err: unknown) => logger.warn({ err, accountId, provider }, 'could not re-seal a stored key'));
    }
    return plaintext;
  }

  return {
    writable: box !== undefined,
    peek(accountId, provider) {
      const hit = cache.get(accountId)?.get(provider);
      return hit && hit.expires > clock.now() ? hit.value : undefined;
    },
    get(accountId, provider) {
      const hit = cache.get(accountId)?.get(provider);
      if (hit && hit.expires > clock.now()) return Promise.resolve(hit.value);
      // One ledger read per (account, provider) at a time: concurrent requests share it.
      const k = `${accountId}\n${provider}`;
      let p = loading.get(k);
      if (!p) {
        const gen = generation;
        p = load(accountId, provider).then(
          (value) => {
            loading.delete(k);
            // A PUT/DELETE while the read was in flight: do not cache what it read.
            if (gen === generation) remember(accountId, provider, value);
            return value;
          },
          (err: unknown) => {
            loading.delete(k);
            if (err instanceof MasterKeyError) logger.error({ err: err.message, accountId, provider }, 'stored BYOK key cannot be opened');
            throw err;
          },
        );
        loading.set(k, p);
      }
      return p;
    },
    async put(accountId, provider, key) {
      if (!box) throw new MasterKeyError('byok.masterKey is not set');
      await ledger.putSecret(accountId, provider, box.seal(key, aadOf(accountId, provider)));
      forget(accountId);
    },
    async delete(accountId, provider) {
      const removed = await ledger.deleteSecret(accountId, provider);
      forget(accountId);
      return removed;
    },
    list(accountId) {
      return ledger.listSecrets(accountId);
    },
    async rotate() {
      if (!box) throw new MasterKeyError('byok.masterKey is not set');
      const report = { accounts: 0, keys: 0, resealed: 0, failed: 0 };
      for (const account of await ledger.listAccounts()) {
        const names = await ledger.listSecrets(account.id);
        if (names.length === 0) continue;
        report.accounts++;
        for (const provider of names) {
          report.keys++;
          const sealed = await ledger.getSecret(account.id, provider);
          if (sealed === null) continue;
          try {
            const { plaintext, stale } = box.open(sealed, aadOf(account.id, provider));
            if (!stale) continue;
            await ledger.putSecret(account.id, provider, box.seal(plaintext, aadOf(account.id, provider)));
            report.resealed++;
          } catch (err) {
            report.failed++;
            logger.error({ err: (err as Error).message, accountId: account.id, provider }, 'could not re-seal a stored key');
          }
        }
        forget(account.id);
      }
      return report;
    },
    invalidate(accountId) {
      if (accountId === undefined) {
        generation++;
        cache.clear();
        entries = 0;
      } else forget(accountId);
    },
  };
}
