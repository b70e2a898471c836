// Stored BYOK keys on the admin port, with the customer's own tollgate key:
//   PUT /v1/provider-keys/:provider {"key"}   DELETE /v1/provider-keys/:provider   GET /v1/provider-keys
// Keys are sealed by the KeyStore (proxy/secrets.ts) and never returned. Also the operator's
// POST /admin/byok/rotate, which re-seals them all under the current master key.

import { z } from 'zod';
import type { KeyStore } from '../secrets.js';
import { AdminHttpError, type AdminRouter } from './router.js';
import { parseBody } from './validate.js';

const PutBody = z.strictObject({ key: z.string().trim().min(1, 'key must not be empty').max(8192, 'key is too long') });

/** What the routes need of a provider: whether BYOK is real for it (proxy/registry.ts). */
export interface ByokProvider {
  byok: boolean;
  byokRefusal: string;
}

export function registerProviderKeyRoutes(router: AdminRouter, deps: { store: KeyStore; providers: ReadonlyMap<string, ByokProvider> }): void {
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
