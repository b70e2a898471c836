// The per-account realtime session cap holds across replicas (issue 19, item 6): two tollgate
// processes on one Redis, a Free account capped at 2 open sessions. One session on A and one on
// B fill the cap: a third on either is refused 429 too_many_sessions and never reaches the
// provider; closing A's frees a slot B then takes; when all end the ledger's ZSET is empty.
// A process killed with -9 (B, lease 1 s) holds its slot until its lease lapses, then A admits.
// With Redis gone, the handshake is refused 503 ledger_unavailable before any provider socket.

import t from 'tap';
import { WebSocket } from 'ws';
import { startRedis } from '../../helpers/redis.js';
import { startOpsProcess, type OpsProcess } from '../../helpers/ops-process.js';
import { TEST_KEY } from '../../helpers/tollgate.js';
import { startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const ZSET = 'tg:{acct:acct}:sessions';
const LISTEN = '/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000';

const redis = await startRedis();
t.teardown(() => redis.stop());
const db = redis.client();
const dg = await startFakeDeepgram();
t.teardown(() => dg.close());

const start = (sessionLeaseMs?: number): Promise<OpsProcess> =>
  startOpsProcess({
    redis: { url: redis.url },
    workers: 1,
    realtime: { maxSessionsPerAccount: { free: 2 }, ...(sessionLeaseMs ? { sessionLeaseMs } : {}) },
    providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } },
    accounts: [{ id: 'acct', tier: 'free', apiKeys: [TEST_KEY] }],
  });
// A with the default lease (30 s); B with a 1 s lease (renewed every third of it), to be killed.
const [A, B] = await Promise.all([start(), start(1_000)]);
t.teardown(() => Promise.all([A, B].map((p) => p.stop('SIGKILL'))));

interface Opened {
  ws: WebSocket;
  /** The session's id (x-tollgate-request-id of the 101): its member in the ZSET. */
  id: string;
  closed: Promise<number>;
}
type Attempt = { ok: true; session: Opened } | { ok: false; status: number; body: { err_code?: string } };

/** A Deepgram live socket through process `p` (the browser's `token` subprotocol form). */
function attempt(p: OpsProcess): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(p.proxyUrl.replace('http', 'ws') + LISTEN, ['token', TEST_KEY]);
    let id = '';
    ws.once('upgrade', (res) => (id = String(res.headers['x-tollgate-request-id'])));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.once('open', () => resolve({ ok: true, session: { ws, id, closed } }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      ws.off('error', reject);
      ws.once('error', () => {});
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body: JSON.parse(s) }));
    });
  });
}

async function open(p: OpsProcess): Promise<Opened> {
  const r = await attempt(p);
  if (!r.ok) throw new Error(`refused ${r.status} ${JSON.stringify(r.body)}`);
  return r.session;
}

const members = async () => (await db.zrange(ZSET, 0, -1)).sort();

t.test('cap 2 across two processes: one on A, one on B, a third on either is 429; a close on A frees a slot for B; the ZSET ends empty', async (t) => {
  const a1 = await open(A);
  const b1 = await open(B);
  t.same(await members(), [a1.id, b1.id].sort(), 'the ledger holds both sessions, one from each process');
  for (const [name, p] of [['A', A], ['B', B]] as const) {
    const r = await attempt(p);
    t.same(r.ok ? 'admitted' : [r.status, r.body.err_code], [429, 'too_many_sessions'], `a third on ${name}: 429 too_many_sessions`);
  }
  t.equal(dg.connections.length, 2, 'the refused handshakes never reached the provider');

  a1.ws.close(1000);
  await until(async () => (await members()).length === 1, "A's session released its slot");
  t.same(await members(), [b1.id]);
  const b2 = await open(B);
  t.same(await members(), [b1.id, b2.id].sort(), 'B took the freed slot');
  t.same(await attempt(A).then((r) => (r.ok ? 'admitted' : r.status)), 429, 'full again');

  b1.ws.close(1000);
  b2.ws.close(1000);
  await until(async () => (await db.exists(ZSET)) === 0, 'every slot released');
  t.equal(await db.zcard(ZSET), 0, 'after all end the ZSET is empty (and gone)');
  t.equal(dg.connections.length, 3);
});

t.test('kill -9 of a process holding a session: its slot lapses with its 1 s lease, then a new session is admitted', async (t) => {
  const a = await open(A);
  const c = await open(B);
  t.same(await members(), [a.id, c.id].sort());
  // B renews while its session runs: past its first lease the slot is still held.
  const firstLease = Number(await db.zscore(ZSET, c.id));
  await until(async () => Number(await db.zscore(ZSET, c.id)) > firstLease && Date.now() > firstLease, "B renewed its session's lease, and the first lease is over");
  t.equal(await attempt(A).then((r) => (r.ok ? 200 : r.status)), 429, 'the cap is still full past the first lease while B runs');
  B.child.kill('SIGKILL');
  t.equal(await B.exited, 'SIGKILL');
  const lapsesAt = Number(await db.zscore(ZSET, c.id));
  t.ok(lapsesAt > 0, "B's slot is still held right after the kill");

  let admitted: Opened | undefined;
  const refusals: string[] = [];
  while (!admitted) {
    const r = await attempt(A);
    if (r.ok) admitted = r.session;
    else {
      refusals.push(`${r.status} ${r.body.err_code}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  t.ok(Date.now() >= lapsesAt, `admitted only once B's lease had lapsed (${refusals.length} refused before)`);
  t.same(refusals.filter((x) => x !== '429 too_many_sessions'), [], 'every earlier try was 429 too_many_sessions');
  t.same(await members(), [a.id, admitted.id].sort(), "B's session is gone from the ledger; A's and the new one hold the slots");
  t.equal(await c.closed, 1006, "B's client lost its socket with the process");

  a.ws.close(1000);
  admitted.ws.close(1000);
  await until(async () => (await db.exists(ZSET)) === 0, 'every slot released');
  t.pass('the ZSET is empty');
});

t.test('Redis unreachable at the handshake: 503 ledger_unavailable, the provider never asked', async (t) => {
  const before = dg.connections.length;
  db.disconnect();
  await redis.kill();
  const r = await attempt(A);
  t.same(r.ok ? 'admitted' : [r.status, r.body.err_code], [503, 'ledger_unavailable']);
  t.equal(dg.connections.length, before, 'no provider socket was opened');
});
