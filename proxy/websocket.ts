// WebSocket upgrades on the data plane (realtime APIs: OpenAI Realtime, Deepgram live,
// ElevenLabs stream-input, Cartesia). BYOK sessions pass through http-proxy-3 on the
// customer's own provider key, counted in requestCount. Sessions on the platform key would need
// per-frame metering that tollgate does not do yet, so they are refused with 404 unknown_route
// before anything reaches the provider: nothing goes upstream on the platform key unaccounted.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from 'pino';
import type { Ledger } from '../ledger/types.js';
import { extractClientKey, type Authenticator } from './auth.js';
import { createError, type TollgateError } from './errors.js';
import { hasBadEscape, isUnsafePath, parseTarget, type Registry } from './registry.js';

export interface UpgradeDeps {
  registry: Registry;
  auth: Authenticator;
  ledger: Ledger;
  logger: Logger;
  storedKey?(accountId: string, provider: string): Promise<string | null>;
}

// The customer's credentials, and its own claims about where it is (X-Forwarded-* by prefix below).
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'xi-api-key', 'api-key', 'x-access-token', 'forwarded', 'x-real-ip'];

function reject(socket: Duplex, err: TollgateError): void {
  const body = JSON.stringify({ error: { message: err.message, type: 'invalid_request_error', code: err.code } });
  socket.end(
    `HTTP/1.1 ${err.status} ${err.code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-tollgate-error: ${err.code}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createUpgradeHandler(deps: UpgradeDeps): { handle(req: IncomingMessage, socket: Duplex, head: Buffer): void; close(): void } {
  const proxy = createProxyServer({ ws: true, changeOrigin: true, ignorePath: true, xfwd: false });
  proxy.on('error', (err, _req, target) => {
    deps.logger.warn({ err: (err as Error).message }, 'websocket proxy error');
    (target as Duplex).destroy();
  });

  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { providerId, path, search } = parseTarget(req.url ?? '/');
    const p = deps.registry.get(providerId);
    if (!p) return reject(socket, createError('unknown_provider', `no provider "${providerId}"`));
    if (isUnsafePath(path)) return reject(socket, createError('invalid_request', 'the path may not contain dot segments or encoded slashes'));
    if (hasBadEscape(req.url ?? '/')) return reject(socket, createError('invalid_request', 'the request target has a malformed percent-escape'));
    const key = extractClientKey(req.headers, p.adapter.clientAuth);
    if (!key) return reject(socket, createError('invalid_api_key', 'missing API key'));
    const accountId = await deps.auth.resolve(key);
    if (!accountId) return reject(socket, createError('invalid_api_key', 'invalid API key'));
    // The HTTP rule (pipeline.ts): a key header is refused where BYOK is not real, and an empty one is an error.
    const header = req.headers[p.byokHeader];
    if (header !== undefined) {
      if (typeof header !== 'string' || header.trim() === '') return reject(socket, createError('invalid_request', `the ${p.byokHeaderName} header is empty`));
      if (!p.byok) return reject(socket, createError('byok_not_enabled', p.byokRefusal));
    }
    const byokKey = (typeof header === 'string' && header.trim()) || (p.byok && (await deps.storedKey?.(accountId, p.adapter.id))) || undefined;
    if (!byokKey) {
      return reject(socket, createError('unknown_route', `WebSocket ${path} on ${p.adapter.id} is served for BYOK only (X-Provider-Key-${p.adapter.id}): realtime sessions on the platform key are not metered yet`));
    }
    if (!p.origin) return reject(socket, createError('provider_not_configured', `${p.adapter.id} has no baseUrl configured`));

    // The customer's credentials never go upstream; the BYOK key goes in the provider's header.
    for (const h of CREDENTIAL_HEADERS) delete req.headers[h];
    for (const h of Object.keys(req.headers)) if (h.startsWith('x-provider-key-') || h.startsWith('x-forwarded-')) delete req.headers[h];
    const upstream: Record<string, string> = {};
    p.adapter.setUpstreamKey(upstream, byokKey);
    Object.assign(req.headers, upstream);

    const requestId = randomUUID();
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      deps.ledger
        .settle({ accountId, requestId, modality: p.adapter.modality, provider: p.adapter.id, byok: true, microCredits: 0, units: {}, outcome: 'ok' })
        .catch((err: unknown) => deps.logger.error({ err, requestId }, 'websocket settle failed'));
    };
    socket.once('close', settle);
    const target = p.origin.replace(/^http/, 'ws') + p.basePath + path + search;
    proxy.ws(req, socket, head, { target });
  }

  return {
    handle(req, socket, head) {
      handle(req, socket, head).catch((err: unknown) => {
        deps.logger.error({ err }, 'websocket upgrade failed');
        reject(socket, createError('ledger_unavailable', 'the ledger is unavailable', err));
      });
    },
    close() {
      proxy.close();
    },
  };
}
