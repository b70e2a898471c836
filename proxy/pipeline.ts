// The data plane: one request through tollgate. Route, authenticate, plan the metering, reserve,
// forward (undici), stream the answer back while the adapter's meter observes it, and settle
// exactly once, whatever happens: success, provider error, timeout, client abort.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Pricing } from '../pricing/types.js';
import type { Clock, Ledger, Outcome, UsageUnits } from '../ledger/types.js';
import type { Modality } from '../pricing/types.js';
import { extractClientKey, type Authenticator, type Principal } from './auth.js';
import { createSettlement, fmt, once } from './metering/settlement.js';
import { Ctx } from './route-context.js';
import { createError, ERROR_TYPES, fromUpstreamFailure, TollgateError, type ErrorCode } from './errors.js';
import { openAiErrorBody } from './providers/openai-compatible.js';
import type { MeterPlan, MeterResult, PlanLimits, ProviderAdapter, RequestBody, ResponseMeter, RouteSpec, UploadMeter } from './providers/types.js';
import { hasBadEscape, isUnsafePath, parseTarget, type Registry } from './registry.js';
import type { BodyBudget, BodyHold } from './body-budget.js';
import { createRefusalLog } from './refusal-log.js';

export interface PipelineLimits extends PlanLimits {
  /** Bodies read whole, by the route's modality (413 past it). */
  maxJsonBodyBytes: Record<Modality, number>;
  upstreamTimeoutMs: number;
  streamIdleTimeoutMs: number;
  reservationTtlMs: number;
  /** Bytes of a non-streamed answer read for its usage after the client left. */
  drainMaxBytes: number;
  /** Time allowed for that read (default: upstreamTimeoutMs). */
  drainTimeoutMs?: number | undefined;
}

export interface SettledRecord {
  requestId: string;
  accountId: string;
  keyId?: string;
  provider: string;
  modality: Modality;
  /** The normalised model (the price table's name); `providerModel` when the provider's differs. */
  model?: string;
  providerModel?: string;
  status: number;
  outcome: Outcome;
  byok: boolean;
  microCredits: number;
  units: UsageUnits;
  reported?: UsageUnits;
  source?: MeterResult['source'];
  durationMs: number;
  /** Realtime sessions: an interim settle, or the session's final one (proxy/realtime/). */
  session?: 'interim' | 'final';
}

/** Hooks for metrics; the pipeline does not import prom-client. */
export interface ProxyEvents {
  upstreamHeaders?(provider: string, status: number, seconds: number): void;
  /** `stream`: the answer is an event stream. */
  firstByte?(provider: string, seconds: number, stream: boolean): void;
  streamOpened?(provider: string): void;
  streamClosed?(provider: string): void;
  settled?(rec: SettledRecord): void;
  /** A free route's request finished (not counted by the ledger, so no `settled`). */
  freeRequest?(rec: SettledRecord): void;
  /** `tier`: the account's, once its key is known. */
  rejected?(provider: string, code: ErrorCode, status: number, tier?: string): void;
  /** A capped account's settle exceeded its cap: `microCredits` were not charged (written off). */
  writtenOff?(rec: SettledRecord, microCredits: number): void;
  ledgerCall?(op: 'reserve' | 'settle', seconds: number, ok: boolean): void;
}

export interface PipelineDeps {
  registry: Registry;
  ledger: Ledger;
  pricing: Pricing;
  auth: Authenticator;
  logger: Logger;
  clock: Clock;
  limits: PipelineLimits;
  dispatcher: Dispatcher;
  /** Bytes of bodies held before their reservation, for the whole process (503 server_busy past it). */
  bodyBudget: BodyBudget;
  /** A stored BYOK key for (account, provider), decrypted; null when none. */
  storedKey?(accountId: string, provider: string): Promise<string | null>;
  /** The same from the cache without waiting: undefined when not cached (then storedKey). */
  storedKeyCached?(accountId: string, provider: string): string | null | undefined;
  events?: ProxyEvents;
}

export interface Pipeline {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Requests not yet settled. */
  inFlight(): number;
  /** Resolves when every request in flight has settled (or after `timeoutMs`). */
  idle(timeoutMs: number): Promise<boolean>;
  /**
   * Past a graceful stop's grace period (after the client connections were closed): cuts the
   * provider calls still running for clients that left (read for their usage, pipeline's
   * `keep`), and every later one at once. Each settles with what its meter saw.
   */
  cut(): void;
}

// Hop-by-hop headers (RFC 9110 §7.6.1), headers that carry the customer's credentials, and the
// client's own claims about where it is (Forwarded, X-Real-IP; X-Forwarded-* by prefix below).
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'host', 'content-length', 'authorization', 'x-api-key', 'xi-api-key', 'api-key', 'x-access-token', 'expect',
  'forwarded', 'x-real-ip',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The metric label of requests to a provider name tollgate does not have. */
const UNKNOWN_PROVIDER = '(unknown)';

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { registry, ledger, pricing, auth, logger, clock, limits, dispatcher, events, bodyBudget } = deps;
  // Reserve, settle with retry, the `settled` line (one per request) and event: shared with
  // realtime sessions.
  const settlement = createSettlement({ ledger, logger, events });
  const refused = createRefusalLog(logger, clock);
  // `entered`: requests between arrival and their forwarding or refusal (auth and reserve
  // included); `open`: requests forwarded and not yet settled (counted before `entered` drops).
  // Idle means both are zero, so a graceful stop never closes the ledger under a request that
  // is still authenticating.
  let entered = 0;
  let open = 0;
  let idleWaiters: Array<() => void> = [];
  const maybeIdle = () => {
    if (open === 0 && entered === 0 && idleWaiters.length > 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  };
  const opened = () => {
    open++;
  };
  const closed = () => {
    open--;
    maybeIdle();
  };
  // Calls still read for a client that left (rare), so cut() can stop them; set by cut().
  const draining = new Set<() => void>();
  let cutting = false;

  /** `unread`: a request whose body is left unread (refused by size): answered while it drains. */
  function sendError(res: ServerResponse, adapter: ProviderAdapter | undefined, err: TollgateError, requestId: string, provider: string, who?: Principal | null, unread?: IncomingMessage): void {
    events?.rejected?.(provider, err.code, err.status, who?.tier);
    refused({ requestId, accountId: who?.accountId, keyId: who?.keyId, provider, code: err.code, status: err.status });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = (adapter?.errorBody ?? openAiErrorBody)(err.code, err.message, ERROR_TYPES[err.code]);
    const text = JSON.stringify(body);
    if (unread && !unread.readableEnded) {
      res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-tollgate-error': err.code, 'x-tollgate-request-id': requestId });
      endAfterBody(unread, res, text);
      return;
    }
    res.writeHead(err.status, { 'content-type': 'application/json', 'x-tollgate-error': err.code, 'x-tollgate-request-id': requestId });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, hold: BodyHold): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const clientRequestId = typeof req.headers['x-request-id'] === 'string' && SAFE_REQUEST_ID.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : undefined;
    const { providerId, path, search } = parseTarget(req.url ?? '/');
    const p = registry.get(providerId);
    if (!p) {
      // The name is the client's: one metric label for all of them, not a series per name.
      sendError(res, undefined, createError('unknown_provider', `no provider "${providerId}": use /{provider}/… with one of ${[...registry.keys()].join(', ')}`), requestId, UNKNOWN_PROVIDER);
      return;
    }
    const adapter = p.adapter;
    let who: Principal | null | undefined;
    const fail = (err: TollgateError, unread?: IncomingMessage) => sendError(res, adapter, err, requestId, p.adapter.id, who, unread);

    if (isUnsafePath(path)) {
      fail(createError('invalid_request', 'the path may not contain dot segments or encoded slashes'));
      return;
    }
    if (hasBadEscape(req.url!)) {
      fail(createError('invalid_request', 'the request target has a malformed percent-escape'));
      return;
    }

    const key = extractClientKey(req.headers, adapter.clientAuth);
    if (!key) {
      fail(createError('invalid_api_key', `missing API key: send your tollgate key where the ${adapter.id} SDK sends its API key`));
      return;
    }
    // Steady state is a cache hit: taken without an await (a promise and a turn per request).
    who = auth.cachedPrincipal(key);
    if (who === undefined) {
      try {
        who = await auth.resolvePrincipal(key);
      } catch (err) {
        fail(createError('ledger_unavailable', 'the ledger is unavailable', err));
        return;
      }
    }
    if (!who) {
      fail(createError('invalid_api_key', 'invalid API key'));
      return;
    }
    if (who.suspended) {
      fail(createError('account_suspended', 'this account is suspended: contact the operator'));
      return;
    }
    const accountId = who.accountId;

    // BYOK only where it is real (registry.ts): elsewhere a key header is refused, never free,
    // and a stored key is not looked up (the request is metered).
    const byokHeader = req.headers[p.byokHeader];
    let byokKey: string | undefined;
    if (byokHeader !== undefined) {
      byokKey = headerValue(byokHeader);
      if (!byokKey) {
        fail(createError('invalid_request', `the ${p.byokHeaderName} header is empty: put your ${adapter.id} key in it, or drop it to be metered`));
        return;
      }
      if (!p.byok) {
        fail(createError('byok_not_enabled', p.byokRefusal));
        return;
      }
    } else if (p.byok && deps.storedKey) {
      let stored = deps.storedKeyCached?.(accountId, adapter.id);
      if (stored === undefined) {
        try {
          stored = await deps.storedKey(accountId, adapter.id);
        } catch (err) {
          fail(createError('ledger_unavailable', 'the key store is unavailable', err));
          return;
        }
      }
      byokKey = stored ?? undefined;
    }
    const byok = byokKey !== undefined;
    const method = req.method ?? 'GET';
    const matched = p.match(method, path);
    if (!matched && !byok) {
      fail(createError('unknown_route', `${method} ${path} is not a route tollgate meters for ${adapter.id}`));
      return;
    }
    if (!p.origin) {
      fail(createError('provider_not_configured', `${adapter.id} has no baseUrl configured`));
      return;
    }
    const upstreamKey = byokKey ?? p.apiKey;
    if (!upstreamKey && !adapter.keyOptional) {
      fail(createError('provider_not_configured', `${adapter.id} has no platform API key: only BYOK requests (${p.byokHeaderName}) are served`));
      return;
    }

    const route: RouteSpec | undefined = matched?.route;
    const metered = route !== undefined && !route.free && route.plan !== undefined;
    // The client left while it was authenticated (a cache miss, a key lookup): nothing to do.
    if (res.destroyed) return;

    // Read the body the plan needs.
    let body: RequestBody = { kind: 'none' };
    if (metered && (route.body === 'json' || route.body === 'buffer')) {
      try {
        const raw = await readBody(req, limits.maxJsonBodyBytes[route.modality ?? adapter.modality], bodyBudget, hold);
        if (route.body === 'buffer') body = { kind: 'buffer', raw };
        else {
          let value: unknown;
          try {
            value = JSON.parse(raw.toString('utf8'));
          } catch (err) {
            if (!byok) throw createError('invalid_request', 'the request body is not valid JSON', err);
          }
          body = { kind: 'json', value, raw };
        }
      } catch (err) {
        if (err instanceof TollgateError && (err.code === 'payload_too_large' || err.code === 'server_busy')) {
          if (err.code === 'server_busy') res.setHeader('retry-after', '1');
          fail(err, req); // the rest of the body is discarded, not read into memory
          return;
        }
        fail(err instanceof TollgateError ? err : createError('invalid_request', 'could not read the request body', err));
        return;
      }
    } else if (metered && route.body === 'stream') {
      const cl = Number(req.headers['content-length']);
      body = { kind: 'stream', contentLength: Number.isFinite(cl) && cl >= 0 ? cl : undefined };
    }

    let plan: MeterPlan | undefined;
    if (metered) {
      try {
        plan = route.plan!(new Ctx(p.adapter.id, method, path, search, req.headers, matched!.params, pricing, limits, byok), body);
      } catch (err) {
        // Under BYOK the provider judges the request; tollgate only loses the unit count.
        if (!byok || !(err instanceof TollgateError)) {
          fail(err instanceof TollgateError ? err : createError('invalid_request', (err as Error).message, err));
          return;
        }
      }
    }
    const modality: Modality = plan?.modality ?? adapter.modality;
    const counted = plan !== undefined || byok; // free platform-key routes are not requests of the account

    // Reserve before the provider sees anything (Free hard cap; a paid account with no spend
    // limit is admitted without waiting on Redis, see ledger/redis/admission.ts).
    let capped = false;
    if (plan && !byok) {
      // The floor: what an expired reservation is charged if this process dies (docs/reliability.md).
      const floorMicro = Math.min(plan.floorMicro ?? plan.estimateMicro, plan.estimateMicro);
      const r = await settlement.reserve({ accountId, requestId, microCredits: plan.estimateMicro, floorMicro, modality: plan.modality, ttlMs: limits.reservationTtlMs });
      if (!r.ok) {
        fail(r.error);
        return;
      }
      // A capped account (hard-capped tier or spend limit) is sent the output limit it reserved for.
      capped = !r.local && !r.open;
    }

    // From here on the request is in flight and must settle exactly once.
    opened();
    let status = 0;
    let meter: ResponseMeter | undefined;
    let settledOnce = false; // read by leave(): a client leaving after the end cuts nothing
    const settle = once((outcome: Outcome, pending: MeterResult | undefined | Promise<MeterResult | undefined>): void => {
      settledOnce = true;
      if (pending instanceof Promise) {
        pending.then(
          (r) => record(outcome, r),
          (err) => {
            logger.error({ requestId, provider: adapter.id, err }, 'meter result failed; charging the reservation estimate');
            record(outcome, { microCredits: plan?.estimateMicro ?? 0, units: {}, source: 'estimate' });
          },
        );
      } else record(outcome, pending);
    });
    const record = (outcome: Outcome, result: MeterResult | undefined): void => {
      const rec: SettledRecord = {
        requestId,
        accountId,
        keyId: who!.keyId,
        provider: adapter.id,
        modality,
        status,
        outcome,
        byok,
        microCredits: byok || !result ? 0 : result.microCredits,
        units: result?.units ?? {},
        durationMs: Math.round(performance.now() - started),
      };
      // One name for one model whatever the outcome: the provider's (when it answered) or the
      // request's, normalised as the price table names it.
      const providerModel = result?.model ?? plan?.model;
      if (providerModel) {
        rec.model = pricing.normalizeModel(adapter.id, providerModel);
        if (rec.model !== providerModel) rec.providerModel = providerModel;
      }
      if (result?.reported) rec.reported = result.reported;
      if (result?.source) rec.source = result.source;
      if (!counted) {
        closed();
        events?.freeRequest?.(rec);
        return;
      }
      void settlement.settle(rec, clientRequestId ? { clientRequestId } : undefined).finally(closed);
    };

    const headers = upstreamHeaders(req.headers, metered);
    if (upstreamKey) adapter.setUpstreamKey(headers, upstreamKey);
    if (plan?.upstreamHeaders) Object.assign(headers, plan.upstreamHeaders);
    let upBody: Buffer | Readable | undefined;
    if (capped && plan!.boundedBody) upBody = plan!.boundedBody();
    else if (plan?.body) upBody = plan.body;
    else if (body.kind === 'json' || body.kind === 'buffer') upBody = body.raw;
    else if (method !== 'GET' && method !== 'HEAD') upBody = plan?.upload ? Readable.from(observe(req, plan.upload), { objectMode: false }) : req;
    if (Buffer.isBuffer(upBody)) headers['content-length'] = String(upBody.length);
    else if (upBody && req.headers['content-length']) headers['content-length'] = req.headers['content-length'];

    // Forward with undici's dispatch API: the answer's chunks go straight to the client (no
    // body stream, no async iterator, no AbortSignal per request: about a fifth of the proxy's
    // CPU in the bench profile). Backpressure: a full client socket pauses the upstream read.
    const timeout = p.timeoutMs ?? limits.upstreamTimeoutMs;
    let controller: Dispatcher.DispatchController | undefined;
    let clientGone: boolean = res.destroyed; // the client may have left while we reserved
    let responded = false;
    let streaming = false;
    let first = true;
    // The provider's bill is the floor: a metered, non-streamed call whose client leaves once
    // the provider has it is let finish, and its answer read (not sent) for the usage it
    // reports, within proxy.drain* (`drained` bytes so far, `drainCut` once past a bound).
    // A stream, a BYOK call or a free route is cut at once, as is a non-2xx answer.
    const keep = plan !== undefined && !byok && plan.streamed !== true;
    // The drain's state; its functions are made only when a client leaves (none on the hot path).
    let drained = 0;
    let drainCut = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let stopDrain: (() => void) | undefined;
    let drainFor: (() => void) | undefined;
    const onDrain = () => controller?.resume();
    res.on('drain', onDrain);
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      if (settledOnce) return; // the answer had ended; only its last bytes were still on their way
      if (!keep || cutting || (responded && (streaming || !ok()))) return controller?.abort(new Error('client closed the connection'));
      stopDrain = () => controller?.abort(new Error('tollgate is stopping'));
      draining.add(stopDrain);
      // Before the answer's headers the wait is bounded by the upstream timeout; after, by this.
      drainFor = () => {
        drainTimer = setTimeout(() => {
          drainCut = true;
          controller?.abort(new Error('drain time bound'));
        }, limits.drainTimeoutMs ?? timeout);
        drainTimer.unref(); // a bound on a read for a client that left: never what keeps a process up
      };
      if (!responded) return;
      controller?.resume(); // a write refused on the dead socket may have paused the upstream
      drainFor();
    });
    const done = () => {
      res.off('drain', onDrain);
      if (stopDrain) draining.delete(stopDrain);
      if (drainTimer) clearTimeout(drainTimer);
      if (streaming) events?.streamClosed?.(adapter.id);
    };
    const ok = () => status >= 200 && status < 300;

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (clientGone) c.abort(new Error('client closed the connection'));
      },
      onResponseStart(_c, statusCode, upHeaders) {
        if (statusCode < 200) return; // 1xx: informational, the real answer follows
        responded = true;
        status = statusCode;
        events?.upstreamHeaders?.(adapter.id, status, (performance.now() - started) / 1000);
        if (plan && ok()) {
          try {
            meter = plan.response({ status, headers: upHeaders });
          } catch (err) {
            logger.error({ requestId, provider: adapter.id, err }, 'meter failed to start');
          }
        }
        const outHeaders: Record<string, string | string[]> = { 'x-tollgate-request-id': requestId };
        for (const k in upHeaders) {
          const v = upHeaders[k];
          if (v === undefined || DROP_RESPONSE.has(k)) continue;
          if (meter?.transforms && k === 'content-length') continue;
          outHeaders[k] = v;
        }
        const ct = upHeaders['content-type'];
        streaming = typeof ct === 'string' && ct.includes('event-stream');
        if (streaming) events?.streamOpened?.(adapter.id);
        if (!clientGone) res.writeHead(status, outHeaders);
        else if (streaming || !ok()) controller?.abort(new Error('client closed the connection')); // left before the headers
        else drainFor?.();
      },
      onResponseData(c, chunk) {
        if (first) {
          first = false;
          events?.firstByte?.(adapter.id, (performance.now() - started) / 1000, streaming);
        }
        let out: Buffer = chunk;
        if (meter) {
          try {
            out = meter.onChunk(chunk) ?? chunk;
          } catch (err) {
            logger.error({ requestId, provider: adapter.id, err }, 'meter error; passing bytes through');
            meter = undefined;
          }
        }
        if (!clientGone) {
          if (out.length > 0 && !res.write(out)) c.pause();
        } else if ((drained += chunk.length) > limits.drainMaxBytes && !drainCut) {
          drainCut = true;
          c.abort(new Error('drain size bound'));
        }
      },
      onResponseEnd() {
        let tail: Buffer | undefined;
        try {
          tail = meter?.onEnd?.();
        } catch (err) {
          logger.error({ requestId, provider: adapter.id, err }, 'meter error at the end of the body');
        }
        if (tail && tail.length > 0) res.end(tail);
        else res.end();
        settle(!ok() ? 'upstream_error' : clientGone ? 'aborted' : 'ok', ok() ? safeResult(meter, true) : undefined);
        done();
      },
      onResponseError(_c, err) {
        const gone = clientGone || res.destroyed;
        if (!responded) {
          if (gone) settle('aborted', undefined);
          else {
            const e = fromUpstreamFailure(err, adapter.id);
            status = e.status;
            settle(e.code === 'upstream_timeout' ? 'timeout' : 'upstream_error', undefined);
            logger.warn({ requestId, provider: adapter.id, err: err.message, code: (err as { code?: string }).code }, 'upstream failure');
            fail(e);
          }
        } else {
          const timedOut = (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT';
          const outcome: Outcome = gone ? 'aborted' : timedOut ? 'timeout' : 'upstream_error';
          // The body was cut: charge what the meter saw (provider's report, or its estimate);
          // past a drain bound, the provider's report if it was read, else the reservation.
          settle(outcome, !ok() ? undefined : drainCut ? reportedOrReserved() : safeResult(meter, false));
          if (!gone) logger.warn({ requestId, provider: adapter.id, err: err.message }, 'response cut');
          res.destroy();
        }
        done();
      },
    };
    dispatcher.dispatch(
      {
        origin: p.origin,
        path: p.basePath + path + search,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: upBody ?? null,
        headersTimeout: timeout,
        bodyTimeout: limits.streamIdleTimeoutMs,
      },
      handler,
    );
    // handle() returns here: the request is counted by `open` until it has settled.

    /** A drain cut past its bound: the usage the provider reported if the meter read it, else the reservation. */
    function reportedOrReserved(): MeterResult | undefined | Promise<MeterResult | undefined> {
      const reserved: MeterResult = { microCredits: plan!.estimateMicro, units: {}, source: 'estimate' };
      const pick = (r: MeterResult | undefined): MeterResult => (r?.source === 'provider' ? r : reserved);
      const r = safeResult(meter, false);
      return r instanceof Promise ? r.then(pick) : pick(r);
    }

    function safeResult(m: ResponseMeter | undefined, complete: boolean): MeterResult | undefined | Promise<MeterResult> {
      if (!m) return plan ? { microCredits: plan.estimateMicro, units: {}, source: 'estimate' } : undefined;
      try {
        return m.result(complete);
      } catch (err) {
        logger.error({ requestId, provider: adapter.id, err }, 'meter result failed; charging the reservation estimate');
        return { microCredits: plan?.estimateMicro ?? 0, units: {}, source: 'estimate' };
      }
    }
  }

  return {
    handle(req, res) {
      entered++;
      // What the request holds of the body budget goes back when handle() returns: once it is
      // forwarded (the reservation is made) or refused, whichever way.
      const hold: BodyHold = { bytes: 0 };
      handle(req, res, hold)
        .catch((err) => {
          logger.error({ err }, 'unhandled pipeline error');
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: 'internal error', type: 'api_error', code: 'internal_error' } }));
          } else res.destroy();
        })
        .finally(() => {
          if (hold.bytes > 0) bodyBudget.give(hold.bytes);
          entered--;
          maybeIdle();
        });
    },
    inFlight: () => open + entered,
    cut() {
      cutting = true;
      for (const stop of draining) stop();
    },
    idle(timeoutMs) {
      if (open === 0 && entered === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        idleWaiters.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    },
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.trim() !== '' ? s.trim() : undefined;
}

function upstreamHeaders(incoming: IncomingMessage['headers'], metered: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in incoming) {
    if (DROP_REQUEST.has(k) || k.startsWith('x-provider-key-') || k.startsWith('x-forwarded-')) continue;
    const v = incoming[k];
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  // Metered answers are read on the way through: ask for them uncompressed.
  if (metered) out['accept-encoding'] = 'identity';
  return out;
}

/**
 * Reads a body whole, up to `limit` bytes, holding its bytes in `budget` (as `hold`): a declared
 * length is taken at once, so a body that cannot fit is refused before any of it is read.
 */
function readBody(req: IncomingMessage, limit: number, budget: BodyBudget, hold: BodyHold): Promise<Buffer> {
  // The client left while the request waited (auth, key lookup): its body is gone with it, and
  // a destroyed stream emits nothing more, so waiting for it would keep the request forever.
  if (req.destroyed && !req.readableEnded) return Promise.reject(createError('invalid_request', 'the client closed the connection before the body was read'));
  const declared = Number(req.headers['content-length']);
  const known = req.headers['content-length'] !== undefined && Number.isFinite(declared);
  if (known && declared > limit) return Promise.reject(createError('payload_too_large', `the request body is over ${limit} bytes`));
  if (known && !budget.take(declared)) return Promise.reject(busy(budget));
  if (known) hold.bytes = declared;
  // Events, not an async iterator: the iterator's machinery cost more than the read itself.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        cleanup();
        reject(createError('payload_too_large', `the request body is over ${limit} bytes`));
        return;
      }
      // A body of unknown length takes from the budget as it arrives.
      if (n > hold.bytes) {
        if (!budget.take(n - hold.bytes)) {
          cleanup();
          reject(busy(budget));
          return;
        }
        hold.bytes = n;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      if (req.readableEnded) return;
      cleanup();
      reject(new Error('the client closed the connection before the body ended'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function busy(budget: BodyBudget): TollgateError {
  return createError('server_busy', `tollgate is holding its limit of request bodies (${budget.max} bytes) for other requests: retry shortly`);
}

/**
 * How long the rest of a refused body may keep arriving, discarded (never held), before the
 * socket is cut. Node closes a connection whose request body was not read as soon as the answer
 * is written, and the reset then makes a client that is still sending lose the answer.
 */
const LINGER_MS = 2_000;

/** Sends `text` as a complete answer at once, then ends it when the client stops sending (at most LINGER_MS). */
function endAfterBody(req: IncomingMessage, res: ServerResponse, text: string): void {
  res.write(text);
  req.resume();
  const done = () => {
    clearTimeout(t);
    res.end();
  };
  const t = setTimeout(() => {
    res.end();
    req.socket.destroy();
  }, LINGER_MS);
  t.unref();
  req.once('end', done);
  req.once('close', done);
}

async function* observe(src: AsyncIterable<Buffer>, meter: UploadMeter): AsyncIterable<Buffer> {
  for await (const chunk of src) {
    meter.onChunk(chunk);
    yield chunk;
  }
  meter.onEnd();
}

/** µcr as a decimal credit string, exact to 6 places. */
export { fmt };
