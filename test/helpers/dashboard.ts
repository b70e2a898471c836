// Test helper for the dashboard: a tollgate with two accounts (acct: free, TEST_KEY; bob:
// starter, BOB_KEY), a local OpenAI and Kokoro, a clock the test can move, and a known
// workload through the proxy, so every figure on the pages is known to the micro-credit:
//   acct: gpt-4.1 1,000 in + 500 out (12 credits) x2, gpt-4.1-mini 1,000 + 500 (2.5),
//         kokoro 1,000 characters (4): 30.5 credits, 4 requests
//   bob:  gpt-4.1 1,000 + 500: 12 credits, 1 request

import { startUpstream, json } from './upstream.js';
import { startTollgate, TEST_KEY, ADMIN_TOKEN, type TestTollgate } from './tollgate.js';

export const BOB_KEY = 'tg_bob_Q7x9Kp2Lm4Nv8Rt6Yw3Za5Bc1De0Fg';
export const LINK_SECRET = 'dashboard-link-secret-for-tests-0123456789';
export { TEST_KEY, ADMIN_TOKEN };

export interface DashboardStack {
  tg: TestTollgate;
  adminUrl: string;
  /** Moves the app's clock forward (links expire, sessions end). */
  advance(ms: number): void;
  /** GET an admin JSON route with the admin token. */
  admin(path: string): Promise<any>;
  /** POST /admin/dashboard/links; returns the link's path. */
  mintLink(account: string, ttlSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

const chat = (model: string) => ({ id: 'c1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });

/** `raw`: more config (e.g. `redis: {url}` for the Redis ledger). */
export async function startDashboardStack(opts: { dashboard?: Record<string, unknown>; raw?: Record<string, unknown> } = {}): Promise<DashboardStack> {
  const openai = await startUpstream((req, res) => json(res, 200, chat(JSON.parse(req.body.toString()).model)));
  const kokoro = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    res.end(Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(2000, 0xff)]));
  });
  let offset = 0;
  const tg = await startTollgate(
    {
      providers: { openai: { baseUrl: openai.url, apiKey: 'sk-platform' }, kokoro: { baseUrl: kokoro.url } },
      accounts: [
        { id: 'acct', tier: 'free', apiKeys: [TEST_KEY] },
        { id: 'bob', tier: 'starter', apiKeys: [BOB_KEY] },
      ],
      dashboard: { linkSecret: LINK_SECRET, ...opts.dashboard },
      ...opts.raw,
    },
    { clock: { now: () => Date.now() + offset } },
  );
  const post = (url: string, key: string, body: unknown) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const calls: [string, string, unknown][] = [
    [`${tg.base('openai')}/v1/chat/completions`, TEST_KEY, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }],
    [`${tg.base('openai')}/v1/chat/completions`, TEST_KEY, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }],
    [`${tg.base('openai')}/v1/chat/completions`, TEST_KEY, { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }],
    [`${tg.base('kokoro')}/v1/audio/speech`, TEST_KEY, { model: 'kokoro', voice: 'af_bella', input: 'k'.repeat(1000), response_format: 'mp3' }],
    [`${tg.base('openai')}/v1/chat/completions`, BOB_KEY, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }],
  ];
  for (const [url, key, body] of calls) {
    const r = await post(url, key, body);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`workload: ${url} answered ${r.status}`);
  }
  await tg.app.pipeline.idle(2000);
  const admin = async (path: string) => {
    const r = await fetch(`${tg.adminUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return {
    tg,
    adminUrl: tg.adminUrl,
    advance: (ms) => (offset += ms),
    admin,
    async mintLink(account, ttlSeconds) {
      const r = await post(`${tg.adminUrl}/admin/dashboard/links`, ADMIN_TOKEN, { account, ...(ttlSeconds ? { ttlSeconds } : {}) });
      if (r.status !== 201) throw new Error(`mint: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { path: string }).path;
    },
    async close() {
      await tg.close();
      await openai.close();
      await kokoro.close();
    },
  };
}
