// API keys in memory: a key's hash -> its account, issue, revoke (told to the listeners), list,
// look up.

import { createLedgerError } from '../errors.js';
import { keyIdOf, keyRefKind, normalizeKeyHash } from '../inputs.js';
import type { ApiKeyInfo, KeyOwner, Ledger } from '../types.js';
import type { MemoryContext } from './context.js';

export type ApiKeysApi = Pick<Ledger, 'addKey' | 'revokeKey' | 'listKeys' | 'getKey' | 'resolveKey' | 'onKeyRevoked'>;

interface KeyRecord {
  accountId: string;
  createdAt: number;
  label?: string;
  revokedAt?: number;
}

function keyInfo(hash: string, k: KeyRecord): ApiKeyInfo {
  const info: ApiKeyInfo = { id: keyIdOf(hash), accountId: k.accountId, createdAt: k.createdAt };
  if (k.revokedAt !== undefined) info.revokedAt = k.revokedAt;
  if (k.label !== undefined) info.label = k.label;
  return info;
}

export function createApiKeys({ clock, accounts, entry, required, listeners, notifyRevoked }: MemoryContext): ApiKeysApi {
  /** Key hash -> its record; key id -> its hash. */
  const keys = new Map<string, KeyRecord>();
  const keyIds = new Map<string, string>();
  return {
    async addKey(accountId, keyHash, label) {
      const hash = normalizeKeyHash(keyHash);
      const e = required(accountId);
      const existing = keys.get(hash);
      if (existing) {
        if (existing.accountId !== accountId) throw createLedgerError('key_conflict', `key ${keyIdOf(hash)} belongs to another account`);
        return keyInfo(hash, existing);
      }
      const rec: KeyRecord = { accountId, createdAt: clock.now() };
      if (label !== undefined) rec.label = label;
      keys.set(hash, rec);
      keyIds.set(keyIdOf(hash), hash);
      e.keys.add(hash);
      return keyInfo(hash, rec);
    },

    async revokeKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return false;
      const ref = idOrHash.toLowerCase();
      const hash = kind === 'hash' ? ref : keyIds.get(ref);
      const rec = hash ? keys.get(hash) : undefined;
      if (!hash || !rec || rec.revokedAt !== undefined) return false;
      rec.revokedAt = clock.now();
      notifyRevoked(hash);
      return true;
    },

    async listKeys(accountId) {
      const e = entry(accountId);
      if (!e) return [];
      return [...e.keys]
        .map((h) => keyInfo(h, keys.get(h)!))
        .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    async getKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return null;
      const ref = idOrHash.toLowerCase();
      const hash = kind === 'hash' ? ref : keyIds.get(ref);
      const rec = hash ? keys.get(hash) : undefined;
      return hash && rec ? keyInfo(hash, rec) : null;
    },

    async resolveKey(keyHash) {
      const hash = String(keyHash).toLowerCase();
      const rec = keys.get(hash);
      if (!rec || rec.revokedAt !== undefined) return null;
      const a = accounts.get(rec.accountId)?.account;
      const owner: KeyOwner = { accountId: rec.accountId, keyId: keyIdOf(hash), tier: a?.tier ?? 'free' };
      if (a?.suspended) owner.suspended = true;
      return owner;
    },

    onKeyRevoked(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
