// The realtime front door: the proxy's `upgrade` event. Routes `/{provider}/{path}` to a metered
// endpoint, authenticates (header, subprotocol, query, or the first message), enforces the
// per-account session cap, reserves the first step, opens the provider's socket (host only
// from config) and then answers the client's upgrade; refusals before that are HTTP statuses
// with the usual JSON body. BYOK sessions take the same path at zero credits (an endpoint
// tollgate does not meter is relayed for BYOK only). Owns the sweep (interim settles, idle,
// pings, metrics) and the graceful stop (1001 after the grace period).

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { Ledger } from '../../ledger/types.js';
import type { Pricing, TierId } from '../../pricing/types.js';
import type { Authenticator } from '../auth.js';
import { createError, TollgateError } from '../errors.js';
import type { Settlement } from '../metering/settlement.js';
import type { PipelineLimits } from '../pipeline.js';
import type { CompiledProvider, Registry } from '../registry.js';
import { hasBadEscape, isUnsafePath, parseTarget } from '../registry.js';
import { Ctx } from '../route-context.js';
import { matchEndpoint, REALTIME_ENDPOINTS } from './endpoints/index.js';
import { passRefusal, refuseUpgrade, takeClientKey, upstreamOpen, upstreamUrl } from './handshake.js';
import { RelaySession, type RealtimeEvents } from './relay.js';
import { SessionAccount } from './session.js';
import type { Frame, RealtimeEndpoint, SessionMeter } from './types.js';

export interface RealtimeConfig {
  settleIntervalMs: number;
  /** Tollgate's own idle timeout; never shorter than the provider's (endpoint.providerIdleMs). */
  idleTimeoutMs: number;
  maxSessionsPerAccount: Record<TierId, number>;
  highWaterMarkBytes: number;
  maxFrameBytes: number;
  pingIntervalMs: number;
  /** First-message auth: how long to wait for that message. */
  authTimeoutMs: number;
}

export interface RealtimeServerDeps {
  registry: Registry;
  auth: Authenticator;
  ledger: Ledger;
  pricing: Pricing;
  settlement: Settlement;
  logger: Logger;
  limits: PipelineLimits;
  config: RealtimeConfig;
  events?: RealtimeEvents | undefined;
  storedKey?(accountId: string, provider: string): Promise<string | null>;
  endpoints?: readonly RealtimeEndpoint[];
  now?(): number;
}

export interface RealtimeServer {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open sessions. */
  open(): number;
  /** Graceful stop: no new sessions; open ones get `graceMs`, then close 1001; resolves once all settled. */
  drain(graceMs: number): Promise<void>;
}

/** A meter for BYOK sessions on endpoints tollgate does not meter: frames pass, nothing counted. */
function passthroughMeter(p: CompiledProvider): SessionMeter {
  const v = (frame: Frame) => ({ forward: frame, microCredits: 0 });
  return { modality: p.adapter.modality, stepMicro: 0, client: v, provider: v, totals: () => ({ microCredits: 0, units: {} }) };
}

export function createRealtimeServer(deps: RealtimeServerDeps): RealtimeServer {
  const { registry, auth, ledger, logger, config, limits } = deps;
  const now = deps.now ?? Date.now;
  const endpoints = deps.endpoints ?? REALTIME_ENDPOINTS;
  const selected = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: config.maxFrameBytes,
    clientTracking: false,
    handleProtocols: (_offered, req) => selected.get(req) ?? false,
  });
  wss.on('headers', (headers, req) => {
    const id = (req as IncomingMessage & { tollgateSession?: string }).tollgateSession;
    if (id) headers.push(`x-tollgate-request-id: ${id}`);
  });
  const sessions = new Set<RelaySession>();
  const perAccount = new Map<string, number>();
  let pending = 0; // handshakes in progress (counted in the cap already)
  let accepting = true;
  let drained: (() => void) | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let lastPing = now();

  const sweepEvery = Math.max(50, Math.min(1_000, Math.floor(config.settleIntervalMs / 5)));
  function sweep(): void {
    const t = now();
    const ping = t - lastPing >= config.pingIntervalMs;
    if (ping) lastPing = t;
    for (const s of sessions) {
      s.sweep(t, ping);
      void accounts.get(s)?.tick(t);
    }
  }
  const accounts = new WeakMap<RelaySession, SessionAccount>();

  function release(accountId: string): void {
    const n = (perAccount.get(accountId) ?? 1) - 1;
    if (n <= 0) perAccount.delete(accountId);
    else perAccount.set(accountId, n);
  }

  async function capFor(accountId: string): Promise<number> {
    const a = await ledger.getAccount(accountId);
    return config.maxSessionsPerAccount[(a?.tier ?? 'free') as TierId] ?? config.maxSessionsPerAccount.free;
  }

  async function handshake(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const sessionId = randomUUID();
    (req as IncomingMessage & { tollgateSession?: string }).tollgateSession = sessionId;
    const { providerId, path, search } = parseTarget(req.url ?? '/');
    const p = registry.get(providerId);
    if (!p) return refuseUpgrade(socket, createError('unknown_provider', `no provider "${providerId}"`), undefined, sessionId);
    const adapter = p.adapter;
    const refuse = (err: TollgateError) => refuseUpgrade(socket, err, adapter, sessionId);
    if (!accepting) return refuse(createError('provider_not_configured', 'tollgate is shutting down'));
    if (isUnsafePath(path)) return refuse(createError('invalid_request', 'the path may not contain dot segments or encoded slashes'));
    if (hasBadEscape(req.url ?? '/')) return refuse(createError('invalid_request', 'the request target has a malformed percent-escape'));
    const query = new URLSearchParams(search);
    const matched = matchEndpoint(endpoints, adapter.id, path, query);
    const endpoint = matched?.endpoint;
    const ck = takeClientKey(req.headers, search, adapter, endpoint);
    const offered = ck.protocols;
    if (offered.length) selected.set(req, offered[0]!);

    // The key only in the first message (ElevenLabs): accept, then read it.
    let early: Collector | undefined;
    let client: WebSocket | undefined;
    let key = ck.key;
    if (!key && endpoint?.firstMessageKey) {
      client = await acceptClient(req, socket, head);
      early = collect(client, config.maxFrameBytes);
      const first = await early.first(config.authTimeoutMs);
      if (!first) return closeRefused(client, createError('invalid_api_key', 'missing API key'));
      const found = endpoint.firstMessageKey(first);
      key = found.key;
      early.frames[0] = found.frame;
    }
    const fail = (err: TollgateError) => (client ? closeRefused(client, err) : refuse(err));
    if (!key) return fail(createError('invalid_api_key', `missing API key: send your tollgate key where the ${adapter.id} SDK sends its API key`));
    const who = await auth.resolvePrincipal(key);
    if (!who) return fail(createError('invalid_api_key', 'invalid API key'));
    if (who.suspended) return fail(createError('account_suspended', 'this account is suspended: contact the operator'));
    const accountId = who.accountId;

    let byokKey: string | undefined;
    // The HTTP rule (pipeline.ts): a key header is refused where BYOK is not real, and an empty one is an error.
    const header = req.headers[p.byokHeader];
    if (header !== undefined) {
      if (typeof header !== 'string' || header.trim() === '') return fail(createError('invalid_request', `the ${p.byokHeaderName} header is empty`));
      if (!p.byok) return fail(createError('byok_not_enabled', p.byokRefusal));
    }
    if (p.byok) byokKey = (typeof header === 'string' && header.trim()) || (await deps.storedKey?.(accountId, adapter.id)) || undefined;
    const byok = byokKey !== undefined;
    if (!endpoint && !byok) return fail(createError('unknown_route', `WebSocket ${path} on ${adapter.id} is not a realtime endpoint tollgate meters`));
    if (!p.origin) return fail(createError('provider_not_configured', `${adapter.id} has no baseUrl configured`));
    const upstreamKey = byokKey ?? p.apiKey;
    if (!upstreamKey && !adapter.keyOptional) return fail(createError('provider_not_configured', `${adapter.id} has no platform API key: only BYOK sessions are served`));

    // The per-account cap counts sessions open and in handshake on this process.
    const cap = await capFor(accountId);
    const openNow = perAccount.get(accountId) ?? 0;
    if (openNow >= cap) return fail(createError('too_many_sessions', `this account has ${openNow} realtime sessions open, the most its tier allows`));
    perAccount.set(accountId, openNow + 1);
    let handedOver = false;
    try {
      const ctx = new Ctx(adapter.id, 'GET', path, search, req.headers, matched?.params ?? [], deps.pricing, limits, byok);
      let meter: SessionMeter;
      try {
        meter = endpoint ? endpoint.open(ctx) : passthroughMeter(p);
      } catch (err) {
        if (byok && err instanceof TollgateError && err.code === 'unknown_route') meter = passthroughMeter(p);
        else return fail(err instanceof TollgateError ? err : createError('invalid_request', (err as Error).message, err));
      }
      const account = new SessionAccount(
        { ledger, settlement: deps.settlement, ttlMs: limits.reservationTtlMs, settleIntervalMs: config.settleIntervalMs, now },
        { sessionId, accountId, keyId: who.keyId, provider: adapter.id, byok, meter },
      );
      const first = await account.open();
      if (!first.ok) return fail(first.error);

      // The provider's socket: host from config; the key in the provider's own place.
      const up = upstreamOpen(req.headers, ck.query, adapter, upstreamKey);
      endpoint?.prepareUpstream?.(up, ctx);
      const url = upstreamUrl(p.origin, p.basePath, path, up.query);
      const upstream = new WebSocket(url, up.protocols, {
        headers: up.headers,
        perMessageDeflate: false,
        maxPayload: config.maxFrameBytes,
        handshakeTimeout: p.timeoutMs ?? limits.upstreamTimeoutMs,
        followRedirects: false,
      });
      const fromProvider = collect(upstream, config.maxFrameBytes);
      const opened = await upstreamReady(upstream);
      if (opened !== true) {
        void account.finish('upstream_error', false, { end: 'provider_refused', status: opened.status ?? 502 });
        if (client) return closeRefused(client, createError('upstream_error', `the provider refused the session (${opened.status ?? opened.message})`));
        if (opened.status) return passRefusal(socket, opened.status, opened.contentType, opened.body ?? Buffer.alloc(0), sessionId);
        return refuse(createError('upstream_error', `could not reach ${adapter.id}: ${opened.message}`));
      }
      if (!client) {
        if (socket.destroyed) {
          upstream.close(1000);
          void account.finish('aborted', false, { end: 'client_gone' });
          return;
        }
        client = await acceptClient(req, socket, head);
      }
      const relay = new RelaySession({
        sessionId,
        provider: adapter.id,
        client,
        upstream,
        meter,
        account,
        firstMessage: endpoint?.firstMessageKey && !early ? (f) => endpoint.firstMessageKey!(f).frame : undefined,
        ...(early ? { early: early.stop() } : {}),
        earlyProvider: fromProvider.stop(),
        idleMs: Math.max(config.idleTimeoutMs, endpoint?.providerIdleMs ?? 0),
        highWaterMark: config.highWaterMarkBytes,
        logger,
        events: deps.events,
        now,
        onEnd: (s) => {
          sessions.delete(s);
          release(accountId);
          if (sessions.size === 0 && drained) drained();
        },
      });
      handedOver = true;
      sessions.add(relay);
      accounts.set(relay, account);
      sweepTimer ??= setInterval(sweep, sweepEvery).unref();
    } finally {
      if (!handedOver) release(accountId);
    }
  }

  function acceptClient(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    upgraded.add(socket);
    return new Promise((resolve) => wss.handleUpgrade(req, socket, head, resolve));
  }
  /** Sockets whose upgrade was answered: a failure then cuts them (no HTTP answer is possible). */
  const upgraded = new WeakSet<Duplex>();

  return {
    handle(req, socket, head) {
      pending++;
      handshake(req, socket, head)
        .catch((err: unknown) => {
          logger.error({ err }, 'realtime handshake failed');
          if (upgraded.has(socket)) socket.destroy();
          else refuseUpgrade(socket, createError('ledger_unavailable', 'the ledger is unavailable', err), undefined, '');
        })
        .finally(() => {
          pending--;
        });
    },
    open: () => sessions.size,
    async drain(graceMs) {
      accepting = false;
      if (sessions.size > 0) {
        const empty = new Promise<void>((r) => (drained = r));
        let timer: NodeJS.Timeout | undefined;
        const graceOver = await Promise.race([empty.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
        clearTimeout(timer);
        if (graceOver) {
          logger.warn({ sessions: sessions.size }, 'grace period over: closing realtime sessions with 1001');
          for (const s of sessions) s.closeBoth('shutdown', 1001, 'shutting down');
          await Promise.race([empty, new Promise((r) => setTimeout(r, 15_000))]);
        }
      }
      if (sweepTimer) clearInterval(sweepTimer);
      sweepTimer = undefined;
      wss.close();
    },
  };
}

interface Collector {
  frames: Frame[];
  /** The first frame, or undefined after `ms` or a close. */
  first(ms: number): Promise<Frame | undefined>;
  /** Stops collecting; returns what came. */
  stop(): Frame[];
}

/**
 * Holds a socket's frames until the relay starts (first-message auth; the provider's first
 * frames while the client's upgrade is answered). The socket is paused after the first frame,
 * so at most what was already read waits here; past `maxBytes` the socket is cut.
 */
function collect(ws: WebSocket, maxBytes: number): Collector {
  const frames: Frame[] = [];
  let bytes = 0;
  let wake: ((f: Frame | undefined) => void) | undefined;
  const onMsg = (data: Buffer, isBinary: boolean) => {
    frames.push({ data, binary: isBinary });
    bytes += data.length;
    ws.pause();
    if (bytes > maxBytes) ws.terminate();
    wake?.(frames[0]);
  };
  const onClose = () => wake?.(undefined);
  ws.on('message', onMsg);
  ws.on('close', onClose);
  ws.on('error', () => {}); // reported by the relay, or as the handshake's failure
  return {
    frames,
    first(ms) {
      if (frames.length) return Promise.resolve(frames[0]);
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(undefined), ms);
        wake = (f) => {
          clearTimeout(t);
          wake = undefined;
          resolve(f);
        };
      });
    },
    stop() {
      ws.off('message', onMsg);
      ws.off('close', onClose);
      return frames;
    },
  };
}

/** After the upgrade was answered, a refusal is a close: 4402 for credits, 1008 for the rest, 1011 for tollgate's own failures. */
function closeRefused(ws: WebSocket, err: TollgateError): void {
  const code = err.status === 402 ? 4402 : err.status >= 500 ? 1011 : 1008;
  ws.close(code, err.code);
}

type UpstreamResult = true | { status?: number; contentType?: string; body?: Buffer; message: string };

/** Resolves when the provider accepted the socket, or with its refusal (status and body, bounded). */
function upstreamReady(ws: WebSocket): Promise<UpstreamResult> {
  return new Promise((resolve) => {
    const done = (r: UpstreamResult) => {
      ws.off('open', onOpen);
      ws.off('error', onError);
      ws.off('unexpected-response', onResponse);
      resolve(r);
    };
    const onOpen = () => done(true);
    const onError = (err: Error) => done({ message: err.message });
    const onResponse = (_req: unknown, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        if (n < 65_536) chunks.push(c);
        n += c.length;
      });
      const finish = () => {
        const ct = res.headers['content-type'];
        done({ status: res.statusCode ?? 502, ...(ct ? { contentType: ct } : {}), body: Buffer.concat(chunks).subarray(0, 65_536), message: `HTTP ${res.statusCode}` });
        ws.terminate();
      };
      res.on('end', finish);
      res.on('error', finish);
    };
    ws.on('open', onOpen);
    ws.on('error', onError);
    ws.on('unexpected-response', onResponse);
  });
}
