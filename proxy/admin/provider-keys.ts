// Stored BYOK keys on the admin port, with the customer's own tollgate key:
//   PUT /v1/provider-keys/:provider {"key"}   DELETE /v1/provider-keys/:provider   GET /v1/provider-keys
// Keys are sealed by the KeyStore (proxy/secrets.ts) and never returned. Also the operator's
// POST /admin/byok/rotate, which re-seals them all under the current master key.

import { z } from 'zod';
import type { KeyStore } from '../secrets.js';
import { BYOK_KEY_LENGTH, type ProviderAdapter } from '../providers/types.js';
import { AdminHttpError, type AdminRouter } from './router.js';
import { parseBody } from './validate.js';

const PutBody = z.strictObject({ key: z.string().trim().min(1, 'key must not be empty') });

/** What the routes need of a provider: whether BYOK is real for it (proxy/registry.ts). */
export interface ByokProvider {
  byok: boolean;
  byokRefusal: string;
}

/** Why a provider key cannot be one (it would only fail at the provider, or break its header); undefined if fine. */
export function badProviderKey(key: string, bounds: { min: number; max: number }, provider: string): string | undefined {
  const bad = /[\s\x00-\x1f\x7f]/.exec(key);
  if (bad) {
    const c = bad[0].charCodeAt(0);
    const what = c < 0x20 || c === 0x7f ? `a control character (U+${c.toString(16).toUpperCase().padStart(4, '0')})` : 'whitespace';
    return `key: contains ${what} at position ${bad.index}; send the key exactly as the provider issued it`;
  }
  if (key.length < bounds.min) return `key: ${key.length} characters is too short for a ${provider} key (at least ${bounds.min})`;
  if (key.length > bounds.max) return `key: ${key.length} characters is too long for a ${provider} key (at most ${bounds.max})`;
  return undefined;
}

export function registerProviderKeyRoutes(router: AdminRouter, deps: { store: KeyStore; providers: ReadonlyMap<string, ByokProvider & { adapter: Pick<ProviderAdapter, 'byokKeyLength'> }> }): void {
  const { store } = deps;
  const provider = (raw: string): string => {
    const id = raw.toLowerCase();
    if (!deps.providers.has(id)) {
      throw new AdminHttpError(404, 'unknown_provider', `no provider "${raw}": one of ${[...deps.providers.keys()].join(', ')}`);
    }
    return id;
  };

  router.add('GET', '/v1/provider-keys', 'customer', async (ctx) => ({ body: { providers: await store.list(ctx.accountId) } }));

  router.add('PUT', '/v1/provider-keys/:provider', 'customer', async (ctx) => {
    const id = provider(ctx.params[0]!);
    const p = deps.providers.get(id)!;
    // A key for a provider without BYOK would never be used (the request is metered): refuse it.
    if (!p.byok) throw new AdminHttpError(400, 'byok_not_enabled', p.byokRefusal.replace(/; drop the .*$/, ''));
    if (!store.writable) {
      throw new AdminHttpError(501, 'byok_storage_disabled', 'stored provider keys are disabled: the operator must set byok.masterKey (send the key per request in X-Provider-Key-{Provider} instead)');
    }
    const { key } = parseBody(PutBody, await ctx.json());
    const bad = badProviderKey(key, deps.providers.get(id)!.adapter.byokKeyLength ?? BYOK_KEY_LENGTH, id);
    if (bad) throw new AdminHttpError(400, 'invalid_request', `invalid request body: ${bad}`);
    await store.put(ctx.accountId, id, key);
    return { body: { provider: id, stored: true } };
  });

  router.add('DELETE', '/v1/provider-keys/:provider', 'customer', async (ctx) => {
    const id = provider(ctx.params[0]!);
    if (!(await store.delete(ctx.accountId, id))) throw new AdminHttpError(404, 'not_found', `no stored ${id} key`);
    return { body: { provider: id, deleted: true } };
  });

  // Operator: re-seal every stored key under the current byok.masterKey (after a rotation).
  router.add('POST', '/admin/byok/rotate', 'admin', async () => {
    if (!store.writable) throw new AdminHttpError(501, 'byok_storage_disabled', 'byok.masterKey is not set');
    return { body: await store.rotate() };
  });
}
