// The realtime handshake's pure parts: where the customer's key is (header, subprotocols,
// query) and its removal from all of them; the subprotocol the 101 selects; the upstream URL,
// headers and query; and the HTTP refusal of an upgrade with the usual JSON error body.

import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { extractClientKey } from '../auth.js';
import { ERROR_TYPES, type TollgateError } from '../errors.js';
import { openAiErrorBody } from '../providers/openai-compatible.js';
import type { ProviderAdapter } from '../providers/types.js';
import { KEY_QUERY_PARAMS, type KeyProtocol, type RealtimeEndpoint, type UpstreamOpen } from './types.js';

export interface ClientKey {
  /** The customer's key, from the first place that had one; undefined: none at the handshake. */
  key: string | undefined;
  /** The offered subprotocols without the key-bearing entries. */
  protocols: string[];
  /** The query without the key parameters (an ordered multi-map: duplicates kept). */
  query: Array<[string, string]>;
}

/** Reads and removes the customer's key from the header, subprotocols and query. */
export function takeClientKey(headers: IncomingHttpHeaders, search: string, adapter: ProviderAdapter, endpoint: RealtimeEndpoint | undefined): ClientKey {
  let key = extractClientKey(headers, adapter.clientAuth);
  const offered = parseProtocols(headers['sec-websocket-protocol']);
  const protocols: string[] = [];
  const forms: readonly KeyProtocol[] = endpoint?.keyProtocols ?? [];
  for (let i = 0; i < offered.length; i++) {
    const p = offered[i]!;
    const pair = forms.find((f) => 'pair' in f && f.pair === p.toLowerCase());
    if (pair && i + 1 < offered.length) {
      key ??= offered[i + 1];
      protocols.push(p); // the marker (`token`) is what the 101 selects
      i++;
      continue;
    }
    const prefixed = forms.find((f) => 'prefix' in f && p.startsWith(f.prefix)) as { prefix: string } | undefined;
    if (prefixed) {
      key ??= p.slice(prefixed.prefix.length) || undefined;
      continue;
    }
    protocols.push(p);
  }
  const names = new Set([...KEY_QUERY_PARAMS, ...(endpoint?.keyQueryParams ?? [])]);
  const query: Array<[string, string]> = [];
  for (const [k, v] of new URLSearchParams(search)) {
    if (names.has(k)) {
      key ??= stripScheme(v);
      continue;
    }
    query.push([k, v]);
  }
  return { key, protocols, query };
}

/** `Bearer X` / `Token X` in a query parameter: the key is X. */
function stripScheme(v: string): string | undefined {
  const m = /^(?:bearer|token)\s+(.+)$/i.exec(v.trim());
  const k = (m ? m[1]! : v).trim();
  return k || undefined;
}

export function parseProtocols(h: string | string[] | undefined): string[] {
  if (!h) return [];
  const s = Array.isArray(h) ? h.join(',') : h;
  return s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

// Headers never copied upstream: hop-by-hop, the WebSocket handshake's own, the customer's
// credentials and cookies, and BYOK key headers.
const DROP = new Set([
  'host', 'connection', 'upgrade', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'content-length',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept',
  'authorization', 'x-api-key', 'xi-api-key', 'api-key', 'x-access-token', 'cookie', 'origin',
]);

/** The upstream handshake: the client's headers (filtered), the upstream key, the endpoint's extras. */
export function upstreamOpen(headers: IncomingHttpHeaders, query: Array<[string, string]>, adapter: ProviderAdapter, upstreamKey: string | undefined): UpstreamOpen {
  const out: Record<string, string> = {};
  for (const k in headers) {
    if (DROP.has(k) || k.startsWith('x-provider-key-')) continue;
    const v = headers[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  if (upstreamKey) adapter.setUpstreamKey(out, upstreamKey);
  return { headers: out, query: query.slice(), protocols: [] };
}

/** ws(s)://origin + basePath + path + query. */
export function upstreamUrl(origin: string, basePath: string, path: string, query: Array<[string, string]>): string {
  const q = query.length ? `?${new URLSearchParams(query).toString()}` : '';
  return origin.replace(/^http/, 'ws') + basePath + path + q;
}

/** Refuses an upgrade with an HTTP status and the provider-shaped JSON error body. */
export function refuseUpgrade(socket: Duplex, err: TollgateError, adapter: ProviderAdapter | undefined, requestId: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify((adapter?.errorBody ?? openAiErrorBody)(err.code, err.message, ERROR_TYPES[err.code]));
  socket.end(
    `HTTP/1.1 ${err.status} ${err.code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-tollgate-error: ${err.code}\r\nx-tollgate-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Passes a provider's refusal of the upstream handshake on to the client (status and body). */
export function passRefusal(socket: Duplex, status: number, contentType: string | undefined, body: Buffer, requestId: string): void {
  if (socket.destroyed) return;
  socket.write(
    `HTTP/1.1 ${status} Upstream Refused\r\n${contentType ? `Content-Type: ${contentType}\r\n` : ''}Content-Length: ${body.length}\r\n` +
      `x-tollgate-request-id: ${requestId}\r\nConnection: close\r\n\r\n`,
  );
  socket.end(body);
}

/** Close codes a peer may send (RFC 6455 §7.4): 1005, 1006 and 1015 are never on the wire. */
export function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}
