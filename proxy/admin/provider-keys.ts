// Stored BYOK keys on the admin port, with the customer's own tollgate key:
//   PUT /v1/provider-keys/:provider {"key"}   DELETE /v1/provider-keys/:provider   GET /v1/provider-keys
// Keys are sealed by the KeyStore (proxy/secrets.ts) and never returned. Also the operator's
// POST /admin/byok/rotate, which re-seals them all under the current master key.

import type { Logger } from 'pino';
import { z } from 'zod';
import { recordAudit } from '../../ledger/audit-log.js';
import type { Ledger } from '../../ledger/types.js';
import type { KeyStore } from '../secrets.js';
import { AdminHttpError, type AdminRouter } from './router.js';
import { parseBody } from './validate.js';

const PutBody = z.strictObject({ key: z.string().trim().min(1, 'key must not be empty').max(8192, 'key is too long') });

export function registerProviderKeyRoutes(
  router: AdminRouter,
  deps: { store: KeyStore; providers: ReadonlySet<string> | ReadonlyMap<string, unknown>; ledger: Ledger; logger: Logger },
): void {
  const { store } = deps;
  // The audit entry names the provider, never the key.
  const audit = (actor: string, action: string, accountId: string, provider: string, stored: boolean) =>
    recordAudit(deps.ledger.audit, deps.logger, { actor, action, accountId, before: { provider, stored: action === 'byok.stored' ? false : true }, after: { provider, stored } });
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
    if (!store.writable) {
      throw new AdminHttpError(501, 'byok_storage_disabled', 'stored provider keys are disabled: the operator must set byok.masterKey (send the key per request in X-Provider-Key-{Provider} instead)');
    }
    const { key } = parseBody(PutBody, await ctx.json());
    const had = (await store.list(ctx.accountId)).includes(id);
    await store.put(ctx.accountId, id, key);
    await audit(ctx.actor, had ? 'byok.replaced' : 'byok.stored', ctx.accountId, id, true);
    return { body: { provider: id, stored: true } };
  });

  router.add('DELETE', '/v1/provider-keys/:provider', 'customer', async (ctx) => {
    const id = provider(ctx.params[0]!);
    if (!(await store.delete(ctx.accountId, id))) throw new AdminHttpError(404, 'not_found', `no stored ${id} key`);
    await audit(ctx.actor, 'byok.removed', ctx.accountId, id, false);
    return { body: { provider: id, deleted: true } };
  });

  // Operator: re-seal every stored key under the current byok.masterKey (after a rotation).
  router.add('POST', '/admin/byok/rotate', 'admin', async () => {
    if (!store.writable) throw new AdminHttpError(501, 'byok_storage_disabled', 'byok.masterKey is not set');
    return { body: await store.rotate() };
  });
}
