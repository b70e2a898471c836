// Test helper: a fake Stripe meter-event sink that enforces identifier uniqueness like Stripe
// (a second event with an identifier answers 'duplicate' and is not recorded), in-process or
// over HTTP (so a child process that is SIGKILLed mid-flush can use it).

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RetryableSinkError, type Account, type MeterEvent, type MeterEventSink } from '../../ledger/types.js';

export interface FakeMeterStore {
  /** Events Stripe accepted, in order. */
  events: MeterEvent[];
  /** Every send, duplicates included. */
  attempts: MeterEvent[];
  customersCreated: string[];
  /** Sum of accepted values for a customer. */
  total(customer?: string): number;
  accept(event: MeterEvent): 'delivered' | 'duplicate';
}

export function createFakeMeterStore(): FakeMeterStore {
  const seen = new Set<string>();
  const store: FakeMeterStore = {
    events: [],
    attempts: [],
    customersCreated: [],
    total(customer) {
      return store.events.filter((e) => !customer || e.stripeCustomerId === customer).reduce((s, e) => s + e.value, 0);
    },
    accept(event) {
      store.attempts.push({ ...event });
      if (!Number.isSafeInteger(event.value) || event.value <= 0) throw new Error(`bad value ${event.value}`);
      if (seen.has(event.identifier)) return 'duplicate';
      seen.add(event.identifier);
      store.events.push({ ...event });
      return 'delivered';
    },
  };
  return store;
}

export type SinkHook = (event: MeterEvent, attempt: number) => 'ok' | 'retryable' | 'fail' | 'record-then-fail';

/**
 * An in-process sink on a store. `hook` decides per attempt: 'retryable' throws
 * RetryableSinkError before Stripe sees it, 'fail' a permanent error, 'record-then-fail'
 * lets Stripe record it and then fails (a crash after the send, before the commit).
 */
export function fakeSink(store: FakeMeterStore, hook?: SinkHook): MeterEventSink {
  let attempt = 0;
  return {
    async send(event) {
      const what = hook ? hook(event, attempt++) : 'ok';
      if (what === 'retryable') throw new RetryableSinkError('503 from fake Stripe');
      if (what === 'fail') throw new Error('permanent failure from fake Stripe');
      const r = store.accept(event);
      if (what === 'record-then-fail') throw new Error('crashed after Stripe accepted the event');
      return r;
    },
    async customerFor(account: Account) {
      if (account.stripeCustomerId) return account.stripeCustomerId;
      const id = `cus_${account.id}`;
      store.customersCreated.push(id);
      return id;
    },
  };
}

export interface FakeMeterServer {
  url: string;
  store: FakeMeterStore;
  /** 'normal'; 'hang-after-record': accept, then never answer; 'hang-before-record': never answer. */
  mode: 'normal' | 'hang-after-record' | 'hang-before-record';
  /** Resolves when the next request has arrived. */
  nextRequest(): Promise<MeterEvent>;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeMeterServer(): Promise<FakeMeterServer> {
  const store = createFakeMeterStore();
  const waiters: ((e: MeterEvent) => void)[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const srv: Server = createServer(async (req, res) => {
    const event = JSON.parse(await body(req)) as MeterEvent;
    const mode = server.mode;
    for (const w of waiters.splice(0)) w(event);
    if (mode === 'hang-before-record') {
      hanging.add(res);
      return;
    }
    const result = store.accept(event);
    if (mode === 'hang-after-record') {
      hanging.add(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result }));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  const server: FakeMeterServer = {
    url: `http://127.0.0.1:${port}`,
    store,
    mode: 'normal',
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      for (const r of hanging) r.destroy();
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
  return server;
}

/** A sink that posts each event to a FakeMeterServer. */
export function httpSink(url: string): MeterEventSink {
  return {
    async send(event) {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' } });
      if (res.status >= 500) throw new RetryableSinkError(`fake Stripe answered ${res.status}`);
      return ((await res.json()) as { result: 'delivered' | 'duplicate' }).result;
    },
    async customerFor(account) {
      return account.stripeCustomerId ?? `cus_${account.id}`;
    },
  };
}
