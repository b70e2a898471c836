// Test helper: a local Stripe that speaks the v1 wire format to the real stripe-node SDK
// (new Stripe(key, { host: '127.0.0.1', port, protocol: 'http' })), records every call,
// replays Idempotency-Keys, enforces meter-event identifier uniqueness like Stripe, and
// injects faults (500s, closed sockets, hangs, delayed or lost responses) for retry tests.
// Facts it mimics: shared/reference/stripe.md.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface RecordedCall {
  method: string;
  /** Path without the query string, e.g. /v1/billing/meter_events. */
  path: string;
  query: JsonObject;
  /** Form body parsed into nested objects and arrays (values stay strings, as sent). */
  body: JsonObject;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  stripeVersion: string | undefined;
  /** null while the answer is pending (delay/hang), 0 when the socket was closed unanswered. */
  status: number | null;
  /** The answer was replayed from an earlier request with the same Idempotency-Key. */
  replayed: boolean;
  /** The fault injected into this call, if any. */
  fault?: FaultMode;
  /** Fake-clock unix seconds on arrival. */
  at: number;
}

export interface StoredMeterEvent {
  identifier: string;
  eventName: string;
  customerId: string;
  /** payload[value] as sent (a string). */
  value: string;
  timestamp: number;
  created: number;
}

/**
 * error: answer `status` (500) without processing. close: destroy the socket unanswered, not
 * processed. hang: never answer, not processed. delay: process now, answer after delayMs.
 * slow: the request holds its Idempotency-Key for delayMs, then is processed and answered (a
 * concurrent request with the key gets 409 idempotency_key_in_use meanwhile).
 * lose-response: process, then destroy the socket (Stripe has it, the client never hears).
 */
export type FaultMode = 'error' | 'close' | 'hang' | 'delay' | 'slow' | 'lose-response';

export interface FaultSpec {
  mode: FaultMode;
  status?: number;
  delayMs?: number;
  /** Only calls whose path starts with this string (or matches this RegExp). */
  path?: string | RegExp;
}

export interface PriceSpec {
  id: string;
  usageType: 'licensed' | 'metered';
  /** cents, for licensed prices */
  unitAmount?: number;
  unitAmountDecimal?: string;
  meter?: string;
}

/** Price ids for tollgate's `stripe.prices` config in tests; the fake knows them by default. */
export const TEST_PRICES = {
  starter: { base: 'price_test_starter_base', overage: 'price_test_starter_overage' },
  pro: { base: 'price_test_pro_base', overage: 'price_test_pro_overage' },
  scale: { base: 'price_test_scale_base', overage: 'price_test_scale_overage' },
} as const;

/** Flat monthly base (cents) and metered overage (cents per credit, as Stripe's unit_amount_decimal). */
export const TEST_PRICE_SPECS: readonly PriceSpec[] = [
  { id: TEST_PRICES.starter.base, usageType: 'licensed', unitAmount: 2900 },
  { id: TEST_PRICES.starter.overage, usageType: 'metered', unitAmountDecimal: '0.1', meter: 'mtr_test_tollgate' },
  { id: TEST_PRICES.pro.base, usageType: 'licensed', unitAmount: 9900 },
  { id: TEST_PRICES.pro.overage, usageType: 'metered', unitAmountDecimal: '0.08', meter: 'mtr_test_tollgate' },
  { id: TEST_PRICES.scale.base, usageType: 'licensed', unitAmount: 49900 },
  { id: TEST_PRICES.scale.overage, usageType: 'metered', unitAmountDecimal: '0.06', meter: 'mtr_test_tollgate' },
];

export interface FakeStripeOptions {
  /** The secret key clients must send as Bearer; default sk_test_tollgate_fake. */
  secretKey?: string;
  /** Known prices; default TEST_PRICE_SPECS. Checkout and subscriptions refuse unknown prices. */
  prices?: readonly PriceSpec[];
}

export interface FakeStripe {
  /** http://127.0.0.1:PORT: tollgate's stripe.apiBase. */
  url: string;
  port: number;
  secretKey: string;
  /** Every request in arrival order. */
  calls: RecordedCall[];
  meterEvents: StoredMeterEvent[];
  customers: Map<string, JsonObject>;
  checkoutSessions: Map<string, { session: JsonObject; params: JsonObject }>;
  portalSessions: Map<string, JsonObject>;
  subscriptions: Map<string, JsonObject>;
  /** Sum of payload[value] of the meter events accepted for a customer. */
  meterTotal(customerId: string, eventName?: string): number;
  meterEventsFor(customerId: string): StoredMeterEvent[];
  callsTo(method: string, path: string): RecordedCall[];
  addPrice(spec: PriceSpec): void;
  createSubscription(input: {
    customer: string;
    items: Array<{ price: string; quantity?: number }>;
    status?: string;
    metadata?: Record<string, string>;
    periodStart?: number;
    periodEnd?: number;
  }): JsonObject;
  updateSubscription(id: string, patch: { status?: string; cancel_at_period_end?: boolean; periodStart?: number; periodEnd?: number; items?: Array<{ price: string; quantity?: number }> }): JsonObject;
  /** What paying does: a subscription from the session's line items; returns the completed session. */
  completeCheckout(sessionId: string): { session: JsonObject; subscription: JsonObject };
  /** A Stripe event object around `object` (sign its JSON with stripe.webhooks.generateTestHeaderString). */
  event(type: string, object: JsonObject): JsonObject;
  /** The next `n` matching calls get this fault. */
  failNext(n: number, fault: FaultSpec): void;
  clearFaults(): void;
  /** Resolves when a matching request has arrived (and, for processed modes, been processed). */
  waitForRequest(method: string, path: string | RegExp, opts?: { timeoutMs?: number }): Promise<RecordedCall>;
  /** Fake clock, unix seconds; starts at wall time. */
  now(): number;
  advance(seconds: number): void;
  close(): Promise<void>;
}

interface StripeErrorBody {
  type: string;
  message: string;
  code?: string;
  param?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

const DAY = 86_400;
const IDEMPOTENCY_TTL = DAY;

const rid = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

// ---------- form bodies: a[b][0][c]=v → { a: { b: [ { c: 'v' } ] } } ----------

export function parseForm(text: string): JsonObject {
  const root: JsonObject = {};
  for (const [key, value] of new URLSearchParams(text)) setPath(root, keyPath(key), value);
  return arrayify(root) as JsonObject;
}

function keyPath(key: string): string[] {
  const m = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(key);
  if (!m) return [key];
  const segs = [m[1] as string];
  for (const s of (m[2] ?? '').matchAll(/\[([^\]]*)\]/g)) segs.push(s[1] ?? '');
  return segs;
}

function setPath(root: JsonObject, segs: string[], value: string): void {
  let node: JsonObject = root;
  for (let i = 0; i < segs.length; i++) {
    let seg = segs[i] as string;
    if (seg === '__proto__' || seg === 'constructor' || seg === 'prototype') return;
    // a[]=x appends
    if (seg === '') seg = String(Object.keys(node).length);
    if (i === segs.length - 1) {
      node[seg] = value;
      return;
    }
    const next = node[seg];
    if (next === undefined || typeof next !== 'object' || next === null || Array.isArray(next)) node[seg] = {};
    node = node[seg] as JsonObject;
  }
}

function arrayify(v: Json): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  for (const k of keys) v[k] = arrayify(v[k] as Json);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => v[k] as Json);
  return v;
}

/** Canonical JSON (sorted keys): the parameters an Idempotency-Key was first used with. */
function canonical(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k] as Json)}`).join(',')}}`;
}

// ---------- small readers for parsed params ----------

function str(params: JsonObject, name: string, required: true): string;
function str(params: JsonObject, name: string, required?: false): string | undefined;
function str(params: JsonObject, name: string, required = false): string | undefined {
  const v = params[name];
  if (v === undefined || v === '') {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(name, `Invalid string: ${JSON.stringify(v)}`);
  return v;
}

function obj(params: JsonObject, name: string): JsonObject | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(name, `Invalid object`);
  return v;
}

function missing(param: string): HttpError {
  return new HttpError(400, { type: 'invalid_request_error', code: 'parameter_missing', param, message: `Missing required param: ${param}.` });
}

function invalid(param: string, message: string): HttpError {
  return new HttpError(400, { type: 'invalid_request_error', code: 'parameter_invalid', param, message });
}

function noSuch(kind: string, id: string, param = 'id'): HttpError {
  return new HttpError(404, { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'` });
}

function addMonthUtc(unixSeconds: number): number {
  const d = new Date(unixSeconds * 1000);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return Math.floor(d.getTime() / 1000);
}

export async function startFakeStripe(opts: FakeStripeOptions = {}): Promise<FakeStripe> {
  const secretKey = opts.secretKey ?? 'sk_test_tollgate_fake';
  let clockOffset = 0;
  const now = (): number => Math.floor(Date.now() / 1000) + clockOffset;

  const calls: RecordedCall[] = [];
  const meterEvents: StoredMeterEvent[] = [];
  const identifiers = new Map<string, number>();
  const customers = new Map<string, JsonObject>();
  const checkoutSessions = new Map<string, { session: JsonObject; params: JsonObject }>();
  const portalSessions = new Map<string, JsonObject>();
  const subscriptions = new Map<string, JsonObject>();
  const prices = new Map<string, PriceSpec>();
  for (const p of opts.prices ?? TEST_PRICE_SPECS) prices.set(p.id, p);
  const idempotency = new Map<
    string,
    { fingerprint: string; at: number; result?: { status: number; body: Json; headers: Record<string, string> } }
  >();
  const faults: Array<FaultSpec & { remaining: number }> = [];
  const waiters: Array<{ method: string; path: string | RegExp; resolve: (c: RecordedCall) => void }> = [];
  const sockets = new Set<Socket>();

  // ---------- domain objects ----------

  function priceObject(id: string): JsonObject {
    const p = prices.get(id);
    if (!p) throw noSuch('price', id, 'price');
    return {
      id,
      object: 'price',
      active: true,
      type: 'recurring',
      currency: 'usd',
      unit_amount: p.unitAmount ?? null,
      unit_amount_decimal: p.unitAmountDecimal ?? (p.unitAmount !== undefined ? String(p.unitAmount) : null),
      recurring: { interval: 'month', interval_count: 1, usage_type: p.usageType, meter: p.meter ?? null },
      livemode: false,
    };
  }

  function subscriptionItems(subId: string, items: Array<{ price: string; quantity?: number }>, start: number, end: number): JsonObject {
    const data: Json[] = items.map((it) => {
      const item: JsonObject = {
        id: rid('si'),
        object: 'subscription_item',
        price: priceObject(it.price),
        current_period_start: start,
        current_period_end: end,
        subscription: subId,
        metadata: {},
        created: now(),
      };
      // Metered items carry no quantity.
      if (prices.get(it.price)?.usageType !== 'metered') item['quantity'] = it.quantity ?? 1;
      return item;
    });
    return { object: 'list', data, has_more: false, total_count: data.length, url: `/v1/subscription_items?subscription=${subId}` };
  }

  function createSubscription(input: {
    customer: string;
    items: Array<{ price: string; quantity?: number }>;
    status?: string;
    metadata?: Record<string, string>;
    periodStart?: number;
    periodEnd?: number;
  }): JsonObject {
    const id = rid('sub');
    const start = input.periodStart ?? now();
    const end = input.periodEnd ?? addMonthUtc(start);
    const sub: JsonObject = {
      id,
      object: 'subscription',
      customer: input.customer,
      status: input.status ?? 'active',
      cancel_at_period_end: false,
      canceled_at: null,
      created: now(),
      metadata: { ...(input.metadata ?? {}) },
      items: subscriptionItems(id, input.items, start, end),
      livemode: false,
    };
    subscriptions.set(id, sub);
    return sub;
  }

  function updateSubscription(
    id: string,
    patch: { status?: string; cancel_at_period_end?: boolean; periodStart?: number; periodEnd?: number; items?: Array<{ price: string; quantity?: number }> },
  ): JsonObject {
    const sub = subscriptions.get(id);
    if (!sub) throw new Error(`fake stripe: no subscription ${id}`);
    if (patch.status !== undefined) {
      sub['status'] = patch.status;
      if (patch.status === 'canceled') sub['canceled_at'] = now();
    }
    if (patch.cancel_at_period_end !== undefined) sub['cancel_at_period_end'] = patch.cancel_at_period_end;
    const list = sub['items'] as JsonObject;
    const current = list['data'] as JsonObject[];
    const first = current[0];
    const start = patch.periodStart ?? (first?.['current_period_start'] as number | undefined) ?? now();
    const end = patch.periodEnd ?? (patch.periodStart !== undefined ? addMonthUtc(start) : ((first?.['current_period_end'] as number | undefined) ?? addMonthUtc(start)));
    if (patch.items) {
      sub['items'] = subscriptionItems(id, patch.items, start, end);
    } else {
      for (const it of current) {
        it['current_period_start'] = start;
        it['current_period_end'] = end;
      }
    }
    return sub;
  }

  function completeCheckout(sessionId: string): { session: JsonObject; subscription: JsonObject } {
    const entry = checkoutSessions.get(sessionId);
    if (!entry) throw new Error(`fake stripe: no checkout session ${sessionId}`);
    const { session, params } = entry;
    let customer = session['customer'] as string | null;
    if (!customer) {
      customer = rid('cus');
      customers.set(customer, { id: customer, object: 'customer', created: now(), metadata: {}, livemode: false });
      session['customer'] = customer;
    }
    const lineItems = (params['line_items'] as JsonObject[] | undefined) ?? [];
    const subData = (params['subscription_data'] as JsonObject | undefined) ?? {};
    const subscription = createSubscription({
      customer,
      items: lineItems.map((li) => ({
        price: li['price'] as string,
        ...(li['quantity'] !== undefined ? { quantity: Number(li['quantity']) } : {}),
      })),
      metadata: (subData['metadata'] as Record<string, string> | undefined) ?? {},
    });
    session['status'] = 'complete';
    session['payment_status'] = 'paid';
    session['subscription'] = subscription['id'] as string;
    return { session, subscription };
  }

  // ---------- routes ----------

  type Handler = (params: JsonObject, m: RegExpMatchArray) => JsonObject;
  const routes: Array<{ method: string; re: RegExp; handler: Handler }> = [];
  const route = (method: string, re: RegExp, handler: Handler): void => void routes.push({ method, re, handler });

  route('POST', /^\/v1\/customers$/, (p) => {
    const id = rid('cus');
    const customer: JsonObject = {
      id,
      object: 'customer',
      created: now(),
      description: str(p, 'description') ?? null,
      email: str(p, 'email') ?? null,
      name: str(p, 'name') ?? null,
      metadata: obj(p, 'metadata') ?? {},
      livemode: false,
    };
    customers.set(id, customer);
    return customer;
  });

  route('GET', /^\/v1\/customers\/([^/]+)$/, (_p, m) => {
    const c = customers.get(m[1] as string);
    if (!c) throw noSuch('customer', m[1] as string);
    return c;
  });

  route('POST', /^\/v1\/billing\/meter_events$/, (p) => {
    const eventName = str(p, 'event_name', true);
    const payload = obj(p, 'payload');
    if (!payload) throw missing('payload');
    const customerId = str(payload, 'stripe_customer_id');
    if (!customerId) throw missing('payload[stripe_customer_id]');
    const value = str(payload, 'value');
    if (value === undefined) throw missing('payload[value]');
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw invalid('payload[value]', `Invalid value: '${value}' is not a number.`);
    const t = now();
    const tsRaw = str(p, 'timestamp');
    const timestamp = tsRaw === undefined ? t : Number(tsRaw);
    if (!Number.isInteger(timestamp)) throw invalid('timestamp', 'Invalid integer: ' + tsRaw);
    if (timestamp < t - 35 * DAY || timestamp > t + 300) {
      throw invalid('timestamp', 'Timestamp must be within the past 35 days and not more than 5 minutes in the future.');
    }
    const identifier = str(p, 'identifier') ?? rid('mev');
    if (identifiers.has(identifier)) {
      throw new HttpError(
        400,
        { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.` },
        { 'stripe-should-retry': 'false' },
      );
    }
    identifiers.set(identifier, t);
    meterEvents.push({ identifier, eventName, customerId, value, timestamp, created: t });
    return {
      object: 'billing.meter_event',
      created: t,
      event_name: eventName,
      identifier,
      livemode: false,
      payload: payload,
      timestamp,
    };
  });

  route('POST', /^\/v1\/checkout\/sessions$/, (p) => {
    const mode = str(p, 'mode', true);
    if (!['payment', 'setup', 'subscription'].includes(mode)) throw invalid('mode', `Invalid mode: ${mode}`);
    const customer = str(p, 'customer');
    if (customer && !customers.has(customer)) throw noSuch('customer', customer, 'customer');
    const lineItems = p['line_items'];
    if (mode !== 'setup') {
      if (!Array.isArray(lineItems) || lineItems.length === 0) throw missing('line_items');
      lineItems.forEach((li, i) => {
        if (typeof li !== 'object' || li === null || Array.isArray(li)) throw invalid(`line_items[${i}]`, 'Invalid object');
        const price = str(li, 'price');
        if (!price) throw missing(`line_items[${i}][price]`);
        const spec = prices.get(price);
        if (!spec) throw noSuch('price', price, `line_items[${i}][price]`);
        const quantity = str(li, 'quantity');
        if (spec.usageType === 'metered' && quantity !== undefined) {
          throw invalid(`line_items[${i}][quantity]`, `Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`line_items[${i}]\``);
        }
        if (spec.usageType === 'licensed' && quantity === undefined) throw missing(`line_items[${i}][quantity]`);
      });
    }
    const id = `cs_test_${randomBytes(24).toString('hex')}`;
    const session: JsonObject = {
      id,
      object: 'checkout.session',
      mode,
      status: 'open',
      payment_status: 'unpaid',
      url: `https://checkout.stripe.com/c/pay/${id}`,
      customer: customer ?? null,
      customer_email: str(p, 'customer_email') ?? null,
      client_reference_id: str(p, 'client_reference_id') ?? null,
      success_url: str(p, 'success_url') ?? null,
      cancel_url: str(p, 'cancel_url') ?? null,
      metadata: obj(p, 'metadata') ?? {},
      subscription: null,
      created: now(),
      expires_at: now() + DAY,
      livemode: false,
    };
    checkoutSessions.set(id, { session, params: p });
    return session;
  });

  route('POST', /^\/v1\/billing_portal\/sessions$/, (p) => {
    const customer = str(p, 'customer', true);
    if (!customers.has(customer)) throw noSuch('customer', customer, 'customer');
    const id = rid('bps');
    const session: JsonObject = {
      id,
      object: 'billing_portal.session',
      customer,
      return_url: str(p, 'return_url') ?? null,
      url: `https://billing.stripe.com/p/session/test_${randomBytes(16).toString('hex')}`,
      created: now(),
      livemode: false,
    };
    portalSessions.set(id, session);
    return session;
  });

  route('GET', /^\/v1\/subscriptions\/([^/]+)$/, (_p, m) => {
    const sub = subscriptions.get(m[1] as string);
    if (!sub) throw noSuch('subscription', m[1] as string);
    return sub;
  });

  route('DELETE', /^\/v1\/subscriptions\/([^/]+)$/, (_p, m) => {
    if (!subscriptions.has(m[1] as string)) throw noSuch('subscription', m[1] as string);
    return updateSubscription(m[1] as string, { status: 'canceled' });
  });

  // ---------- HTTP ----------

  function send(res: ServerResponse, call: RecordedCall, status: number, body: Json, headers: Record<string, string> = {}): void {
    call.status = status;
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'request-id': rid('req'),
      ...(call.stripeVersion ? { 'stripe-version': call.stripeVersion } : {}),
      ...headers,
    });
    res.end(text);
  }

  function takeFault(method: string, path: string): (FaultSpec & { remaining: number }) | undefined {
    const f = faults.find((x) => x.remaining > 0 && (x.path === undefined || (typeof x.path === 'string' ? path.startsWith(x.path) : x.path.test(path))));
    if (f) {
      f.remaining--;
      if (f.remaining === 0) faults.splice(faults.indexOf(f), 1);
    }
    void method;
    return f;
  }

  function notify(call: RecordedCall): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i] as (typeof waiters)[number];
      const pathOk = typeof w.path === 'string' ? call.path === w.path : w.path.test(call.path);
      if (w.method === call.method && pathOk) {
        waiters.splice(i, 1);
        w.resolve(call);
      }
    }
  }

  /** Runs the route with Idempotency-Key semantics; returns the answer to send. */
  async function execute(call: RecordedCall, processingMs = 0): Promise<{ status: number; body: Json; headers: Record<string, string> }> {
    const key = call.idempotencyKey;
    const fingerprint = `${call.method} ${call.path} ${canonical(call.body)}`;
    if (key && call.method === 'POST') {
      const seen = idempotency.get(key);
      if (seen && now() - seen.at < IDEMPOTENCY_TTL) {
        if (seen.fingerprint !== fingerprint) {
          return {
            status: 400,
            body: {
              error: {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              },
            },
            headers: {},
          };
        }
        if (!seen.result) {
          return {
            status: 409,
            body: { error: { type: 'idempotency_error', code: 'idempotency_key_in_use', message: 'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ' + key + '. Please try again later.' } },
            headers: {},
          };
        }
        call.replayed = true;
        return { ...seen.result, headers: { ...seen.result.headers, 'idempotent-replayed': 'true' } };
      }
    }
    const r = routes.find((x) => x.method === call.method && x.re.test(call.path));
    if (!r) {
      return {
        status: 404,
        body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${call.method}: ${call.path}).` } },
        headers: {},
      };
    }
    // The endpoint starts executing: from here the result is saved for the key.
    const entry: { fingerprint: string; at: number; result?: { status: number; body: Json; headers: Record<string, string> } } = {
      fingerprint,
      at: now(),
    };
    if (key && call.method === 'POST') idempotency.set(key, entry);
    if (processingMs > 0) await new Promise((resolve) => setTimeout(resolve, processingMs));
    let result: { status: number; body: Json; headers: Record<string, string> };
    try {
      const params = call.method === 'GET' ? call.query : call.body;
      result = { status: 200, body: r.handler(params, call.path.match(r.re) as RegExpMatchArray), headers: {} };
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      const error: JsonObject = { type: err.body.type, message: err.body.message };
      if (err.body.code) error['code'] = err.body.code;
      if (err.body.param) error['param'] = err.body.param;
      result = { status: err.status, body: { error }, headers: err.headers };
    }
    entry.result = result;
    return result;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const contentType = String(req.headers['content-type'] ?? '');
      let body: JsonObject = {};
      if (text) body = contentType.includes('application/json') ? (JSON.parse(text) as JsonObject) : parseForm(text);
      const header = (n: string): string | undefined => {
        const v = req.headers[n];
        return Array.isArray(v) ? v[0] : v;
      };
      const call: RecordedCall = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: parseForm(url.search.slice(1)),
        body,
        authorization: header('authorization'),
        idempotencyKey: header('idempotency-key'),
        stripeVersion: header('stripe-version'),
        status: null,
        replayed: false,
        at: now(),
      };
      calls.push(call);

      const auth = call.authorization;
      if (!auth || !auth.startsWith('Bearer ')) {
        send(res, call, 401, { error: { type: 'invalid_request_error', message: 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').' } });
        notify(call);
        return;
      }
      if (auth.slice(7) !== secretKey) {
        send(res, call, 401, { error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${auth.slice(7, 15)}***` } });
        notify(call);
        return;
      }

      const fault = takeFault(call.method, call.path);
      if (fault) call.fault = fault.mode;
      switch (fault?.mode) {
        case 'error': {
          const status = fault.status ?? 500;
          const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
          send(res, call, status, { error: { type, message: status === 429 ? 'Too many requests hit the API too quickly.' : 'An unknown error occurred (injected by the fake).' } });
          notify(call);
          return;
        }
        case 'close':
          call.status = 0;
          req.socket.destroy();
          notify(call);
          return;
        case 'hang':
          notify(call);
          return;
        case 'lose-response':
          void execute(call).then(() => {
            call.status = 0;
            req.socket.destroy();
            notify(call);
          });
          return;
        case 'delay':
          void execute(call).then((result) => {
            notify(call);
            setTimeout(() => send(res, call, result.status, result.body, result.headers), fault.delayMs ?? 1000).unref();
          });
          return;
        case 'slow':
          notify(call);
          void execute(call, fault.delayMs ?? 1000).then((result) => send(res, call, result.status, result.body, result.headers));
          return;
        default:
          void execute(call).then((result) => {
            send(res, call, result.status, result.body, result.headers);
            notify(call);
          });
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    secretKey,
    calls,
    meterEvents,
    customers,
    checkoutSessions,
    portalSessions,
    subscriptions,
    meterTotal(customerId, eventName) {
      return meterEvents
        .filter((e) => e.customerId === customerId && (eventName === undefined || e.eventName === eventName))
        .reduce((sum, e) => sum + Number(e.value), 0);
    },
    meterEventsFor(customerId) {
      return meterEvents.filter((e) => e.customerId === customerId);
    },
    callsTo(method, path) {
      return calls.filter((c) => c.method === method && c.path === path);
    },
    addPrice(spec) {
      prices.set(spec.id, spec);
    },
    createSubscription,
    updateSubscription,
    completeCheckout,
    event(type, object) {
      return {
        id: rid('evt'),
        object: 'event',
        api_version: '2026-09-30.endive',
        created: now(),
        type,
        data: { object },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
      };
    },
    failNext(n, fault) {
      faults.push({ ...fault, remaining: n });
    },
    clearFaults() {
      faults.length = 0;
    },
    waitForRequest(method, path, o = {}) {
      return new Promise<RecordedCall>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`fake stripe: no ${method} ${String(path)} within ${o.timeoutMs ?? 10_000} ms`));
        }, o.timeoutMs ?? 10_000);
        const w = {
          method,
          path,
          resolve: (c: RecordedCall) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        waiters.push(w);
      });
    },
    now,
    advance(seconds) {
      clockOffset += seconds;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
