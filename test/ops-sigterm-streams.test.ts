// SIGTERM with 20 streams open against a real tollgate process (graceMs 1,500): the 10 streams
// that end within the grace period finish whole, the 10 that stall are cut when it runs out,
// new connections are refused at once, every request settles, and the ledger holds exactly what
// was delivered: 12 credits for each finished stream (1,000 + 500 tokens of gpt-4.1, as
// reported) and 0.496 for each cut one (its input estimate, 104 tokens, plus the 5 tokens streamed).
import t from 'tap';
import { pino } from 'pino';
import { startRedis } from './helpers/redis.js';
import { startUpstream } from './helpers/upstream.js';
import { startOpsProcess, logRecords } from './helpers/ops-process.js';
import { createRedisLedger } from '../ledger/index.js';
import { createPricing } from '../pricing/index.js';
import { systemClock } from '../ledger/types.js';

const KEY = 'tg_sigterm_test_key_000000000000001';
const GRACE_MS = 1_500;
const PROMPT = 'x'.repeat(400); // estimate: ceil(400 / 4) + 4 per message = 104 input tokens

t.test('SIGTERM: streams finish or are cut at graceMs, all settled, ledger = delivered', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const up = await startUpstream(async (req, res) => {
    const body = JSON.parse(req.body.toString()) as { user: string };
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < 5; i++) {
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [{ index: 0, delta: { content: `t${i} ` } }] })}\n\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
    if (body.user === 'stall') {
      await new Promise((r) => res.once('close', r)); // silent until tollgate hangs up
      return;
    }
    await released;
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  t.teardown(() => up.close());

  const tg = await startOpsProcess({
    redis: { url: redis.url },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
    accounts: [{ id: 'acme', tier: 'pro', apiKeys: [KEY] }],
    shutdown: { graceMs: GRACE_MS },
    workers: 1,
  });
  t.teardown(() => tg.stop('SIGKILL'));

  interface Seen {
    kind: 'finish' | 'stall';
    deltas: number;
    done: boolean;
    error?: string;
    endedAt: number;
  }
  let deltasSeen = 0;
  const stream = async (kind: Seen['kind']): Promise<Seen> => {
    const seen: Seen = { kind, deltas: 0, done: false, endedAt: 0 };
    try {
      const r = await fetch(`${tg.proxyUrl}/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1', user: kind, stream: true, max_tokens: 50, messages: [{ role: 'user', content: PROMPT }] }),
      });
      if (r.status !== 200) throw new Error(`status ${r.status}: ${await r.text()}`);
      const dec = new TextDecoder();
      let buf = '';
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const data = buf.slice(6, i);
          buf = buf.slice(i + 2);
          if (data === '[DONE]') seen.done = true;
          else if (JSON.parse(data).choices[0]?.delta?.content) {
            seen.deltas++;
            deltasSeen++;
          }
        }
      }
    } catch (err) {
      seen.error = (err as Error).message;
    }
    seen.endedAt = Date.now();
    return seen;
  };
  const all = Promise.all([...Array.from({ length: 10 }, () => stream('finish')), ...Array.from({ length: 10 }, () => stream('stall'))]);

  // Every stream is open and has its 5 tokens before the signal.
  const deadline = Date.now() + 10_000;
  while (deltasSeen < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(deltasSeen, 100, '20 streams open, 5 tokens each');

  const sigtermAt = Date.now();
  tg.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  const late = await fetch(`${tg.proxyUrl}/openai/v1/models`, { headers: { authorization: `Bearer ${KEY}` } }).then(
    (r) => `answered ${r.status}`,
    (err: Error) => (err.cause as { code?: string } | undefined)?.code ?? err.message,
  );
  t.equal(late, 'ECONNREFUSED', 'no new connections after SIGTERM');
  release();

  const results = await all;
  const code = await tg.exited;
  t.equal(code, 0, 'tollgate exits 0');

  const finished = results.filter((r) => r.kind === 'finish');
  const stalled = results.filter((r) => r.kind === 'stall');
  t.same(finished.map((r) => [r.deltas, r.done, r.error]), Array(10).fill([5, true, undefined]), 'the 10 finishing streams ended whole');
  t.same(stalled.map((r) => [r.deltas, r.done]), Array(10).fill([5, false]), 'the 10 stalled streams were cut after their 5 tokens');
  t.ok(stalled.every((r) => r.error !== undefined), 'a cut stream ends in an error for its client');
  const cutAfter = Math.min(...stalled.map((r) => r.endedAt - sigtermAt));
  t.ok(cutAfter >= GRACE_MS - 100 && cutAfter < GRACE_MS + 2_000, `cut at the grace period (${cutAfter} ms after SIGTERM)`);
  t.equal(logRecords(tg, 'grace period over: cutting the requests still open').length, 1);
  t.equal(logRecords(tg, 'settled').length, 20, 'every request settled once');

  const ledger = await createRedisLedger({ url: redis.url, pricing: createPricing(), clock: systemClock, logger: pino({ level: 'silent' }) });
  t.teardown(() => ledger.close());
  const u = await ledger.usage('acme');
  t.equal(u.requestCount, 20);
  t.equal(u.reservedMicro, 0, 'no reservation left open');
  // finished: 1,000 × 4,000 + 500 × 16,000 µcr = 12 credits; cut: 104 × 4,000 + 5 × 16,000 = 0.496.
  t.equal(u.usedMicro, 10 * 12_000_000 + 10 * 496_000, '124.96 credits');
  t.equal(u.breakdownMicro.llm, 124_960_000);
});
