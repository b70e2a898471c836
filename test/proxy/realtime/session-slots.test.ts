// A realtime session's slot in the ledger (the per-account cap across replicas) on one process:
// taken after auth and before the provider's socket, renewed in one ledger call per account,
// released at every kind of end (a 402 at the handshake, the provider refusing, client close,
// provider close); a ledger that fails at the handshake refuses it 503 ledger_unavailable.

import t from 'tap';
import { WebSocket } from 'ws';
import { createLedgerError } from '../../../ledger/errors.js';
import type { Ledger } from '../../../ledger/types.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const LISTEN = '/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000';

interface Spy {
  ledger: Ledger;
  /** The ledger underneath (probes go there, unrecorded). */
  inner: Ledger;
  opened: string[];
  closed: string[];
  renewed: string[][];
  failOpen: boolean;
}

/** The in-memory ledger with its session calls recorded (and openSession failing on demand). */
function spy(): { wrap: (l: Ledger) => Ledger; s: Spy } {
  const s: Spy = { ledger: undefined as unknown as Ledger, inner: undefined as unknown as Ledger, opened: [], closed: [], renewed: [], failOpen: false };
  const wrap = (inner: Ledger): Ledger => {
    s.inner = inner;
    s.ledger = Object.assign(Object.create(inner) as Ledger, {
      async openSession(accountId: string, sessionId: string, cap: number, leaseMs: number) {
        if (s.failOpen) throw createLedgerError('ledger_unavailable', 'ledger unavailable: connection refused');
        const r = await inner.openSession(accountId, sessionId, cap, leaseMs);
        if (r.ok) s.opened.push(sessionId);
        return r;
      },
      async renewSessions(accountId: string, ids: string[], leaseMs: number) {
        s.renewed.push([...ids].sort());
        return inner.renewSessions(accountId, ids, leaseMs);
      },
      async closeSession(accountId: string, sessionId: string) {
        s.closed.push(sessionId);
        return inner.closeSession(accountId, sessionId);
      },
    });
    return s.ledger;
  };
  return { wrap, s };
}

type Attempt = { ok: true; ws: WebSocket; id: string } | { ok: false; status: number; id: string; body: Record<string, unknown> };

function attempt(base: string): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace('http', 'ws') + LISTEN, ['token', TEST_KEY]);
    let id = '';
    ws.once('upgrade', (res) => (id = String(res.headers['x-tollgate-request-id'])));
    ws.once('open', () => resolve({ ok: true, ws, id }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      ws.off('error', reject);
      ws.once('error', () => {});
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, id: String(res.headers['x-tollgate-request-id']), body: JSON.parse(b) }));
    });
  });
}

/** Slots the account holds now: a probe with cap 1000 reports them (and is closed again). */
async function held(l: Ledger): Promise<number> {
  const r = await l.openSession('acct', 'probe', 1000, 30_000);
  await l.closeSession('acct', 'probe');
  return r.open - 1;
}

t.test('renewed in one call per account; released on client close and provider close', async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const { wrap, s } = spy();
  const tg = await startTollgate(
    { providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } }, realtime: { maxSessionsPerAccount: { free: 2 }, sessionLeaseMs: 1_000 } },
    { tier: 'free', ledger: wrap },
  );
  t.teardown(() => tg.close());
  const a = await attempt(tg.proxyUrl);
  const b = await attempt(tg.proxyUrl);
  if (!a.ok || !b.ok) throw new Error('refused');
  t.same(s.opened, [a.id, b.id]);
  await until(() => s.renewed.length >= 2, 'two renewals');
  t.same(s.renewed.slice(0, 2), [[a.id, b.id].sort(), [a.id, b.id].sort()], 'each renewal is one call listing both sessions');
  t.equal(await held(s.inner), 2);

  a.ws.close(1000);
  await until(() => s.closed.length === 1, 'client close released');
  t.same(s.closed, [a.id]);
  dg.connections[1]!.ws.close(1011, 'NET-0001');
  await until(() => s.closed.length === 2, 'provider close released');
  t.same(s.closed, [a.id, b.id]);
  t.equal(await held(s.inner), 0, 'no slot left');
  const renewals = s.renewed.length;
  await new Promise((r) => setTimeout(r, 700)); // two renewal periods with no session open
  t.equal(s.renewed.length, renewals, 'nothing left to renew');
});

t.test('released when the handshake is refused 402 and when the provider refuses the session', async (t) => {
  const dg = await startFakeDeepgram({ key: 'not-the-platform-key' });
  t.teardown(() => dg.close());
  const { wrap, s } = spy();
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } }, realtime: { maxSessionsPerAccount: { free: 1 } } }, { tier: 'free', ledger: wrap });
  t.teardown(() => tg.close());

  const refused = await attempt(tg.proxyUrl);
  t.same(refused.ok ? 'admitted' : [refused.status, refused.body.err_code], [401, 'INVALID_AUTH'], "the provider's refusal passes through");
  t.same(s.opened, [refused.id]);
  await until(() => s.closed.length === 1, 'released');
  t.same(s.closed, [refused.id]);

  // Every credit spent: the first step cannot be reserved.
  await s.ledger.settle({ accountId: 'acct', requestId: 'spend-all', modality: 'stt', provider: 'deepgram', byok: false, microCredits: 10_000_000_000, units: {}, outcome: 'ok' });
  const poor = await attempt(tg.proxyUrl);
  t.same(poor.ok ? 'admitted' : [poor.status, poor.body.err_code], [402, 'insufficient_credits']);
  await until(() => s.closed.length === 2, 'released');
  t.same(s.closed, [refused.id, poor.id]);
  t.equal(await held(s.inner), 0, 'cap 1 and nothing held');
  t.equal(dg.refused, 1, 'the 402 never reached the provider');
});

t.test('the ledger failing at the cap check: 503 ledger_unavailable before any provider socket', async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const { wrap, s } = spy();
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free', ledger: wrap });
  t.teardown(() => tg.close());
  s.failOpen = true;
  const r = await attempt(tg.proxyUrl);
  t.same(r.ok ? 'admitted' : [r.status, r.body.err_code], [503, 'ledger_unavailable'], "in Deepgram's error shape");
  t.equal(dg.connections.length, 0, 'the provider was never asked');
  t.same(s.closed, [], 'no slot was taken, none released');
  s.failOpen = false;
  const ok = await attempt(tg.proxyUrl);
  t.equal(ok.ok, true, 'the next handshake is admitted once the ledger answers');
  if (ok.ok) ok.ws.close(1000);
  await until(() => s.closed.length === 1, 'released');
});
