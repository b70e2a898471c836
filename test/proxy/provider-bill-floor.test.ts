// The provider's bill is the floor (issue 18, scope 2). A metered, non-streamed LLM call the
// provider has is charged what the provider reports even when the client stops reading
// (tollgate reads the rest of the answer, discarding it, to its usage block) or gives up before
// the response headers (tollgate waits for the answer). A stream the client cuts is still
// stopped upstream and charged what was streamed. Past proxy.drainMaxBytes the answer is cut
// and charged the reservation (or the provider's usage, when it was already read).
// Fake providers: local HTTP servers answering in OpenAI's and Anthropic's JSON/SSE formats.
import t, { type Test } from 'tap';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTollgate, TEST_KEY, type TestTollgate } from '../helpers/tollgate.js';

interface Seen {
  path: string;
  /** The response reached its end (not cut by tollgate). */
  finished: boolean;
  /** The response's socket closed before its end. */
  cut: boolean;
  closed: Promise<void>;
}

/** A fake provider: records each exchange; `answer` writes the response. */
async function fakeProvider(t: Test, answer: (req: IncomingMessage, body: any, res: ServerResponse) => Promise<void>): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let close!: () => void;
    const s: Seen = { path: req.url ?? '', finished: false, cut: false, closed: new Promise((r) => (close = r)) };
    seen.push(s);
    res.on('close', () => {
      s.finished = res.writableFinished;
      s.cut = !res.writableFinished;
      close();
    });
    try {
      await answer(req, JSON.parse(Buffer.concat(chunks).toString() || '{}'), res);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const PIECE = Buffer.alloc(62_500, 'x');

/** Writes head, `pieces` × 62,500 'x' and tail, waiting for 'drain' (a real provider's pace under backpressure). */
async function writePaced(res: ServerResponse, head: string, pieces: number, tail: string): Promise<void> {
  const write = async (b: Buffer | string) => {
    if (res.destroyed) throw new Error('cut');
    if (!res.write(b)) {
      await new Promise<void>((r, j) => {
        res.once('drain', r);
        res.once('close', () => j(new Error('cut')));
      });
    }
  };
  await write(head);
  for (let i = 0; i < pieces; i++) await write(PIECE);
  await write(tail);
}

/** OpenAI chat.completion (usage last, as OpenAI sends it), `mb` MB of content (default 4) before the usage. */
async function openaiBig(_req: IncomingMessage, body: any, res: ServerResponse, usage = { prompt_tokens: 9, completion_tokens: 4000, total_tokens: 4009 }, usageFirst = false, mb = 4): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  const head = `{"id":"chatcmpl-1","object":"chat.completion","created":1764547200,"model":"${body.model}",${usageFirst ? `"usage":${JSON.stringify(usage)},` : ''}"choices":[{"index":0,"message":{"role":"assistant","content":"`;
  const tail = `"},"finish_reason":"stop"}]${usageFirst ? '' : `,"usage":${JSON.stringify(usage)}`}}`;
  await writePaced(res, head, mb * 16, tail);
  res.end();
}

/** Anthropic Message JSON (usage last), ~4 MB of text before the usage. */
async function anthropicBig(_req: IncomingMessage, body: any, res: ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_1' });
  const head = `{"id":"msg_1","type":"message","role":"assistant","model":"${body.model}","content":[{"type":"text","text":"`;
  const tail = `"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":3000}}`;
  await writePaced(res, head, 64, tail);
  res.end();
}

/** POSTs `body`; reads `readBytes` of the answer then destroys the socket (or aborts when `abortAt` resolves). */
function leavingClient(url: string, headers: Record<string, string>, body: unknown, o: { readBytes?: number; abortAt?: Promise<void> }): Promise<{ status: number | undefined; read: number }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    let read = 0;
    let status: number | undefined;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      status = res.statusCode;
      res.on('data', (c: Buffer) => {
        read += c.length;
        if (o.readBytes !== undefined && read >= o.readBytes) {
          req.destroy();
          resolve({ status, read });
        }
      });
      res.on('end', () => resolve({ status, read }));
    });
    req.on('error', () => resolve({ status, read }));
    req.end(JSON.stringify(body));
    void o.abortAt?.then(() => {
      req.destroy();
      resolve({ status, read });
    });
  });
}

async function settledUsage(t: Test, tg: TestTollgate): Promise<any> {
  t.ok(await tg.app.pipeline.idle(30_000), 'every request settled');
  return tg.usage();
}

const openaiAuth = { authorization: `Bearer ${TEST_KEY}` };
const anthropicAuth = { 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01' };

t.test('(a) a non-streamed answer the client stops reading: the rest is read for its usage, charged exactly (N=20)', async (t) => {
  const openai = await fakeProvider(t, openaiBig);
  const anthropic = await fakeProvider(t, anthropicBig);
  const tg = await startTollgate({ providers: { openai: { baseUrl: openai.url, apiKey: 'sk-platform' }, anthropic: { baseUrl: anthropic.url, apiKey: 'sk-ant-platform' } } }, { tier: 'starter' });
  t.teardown(() => tg.close());

  const N = 20;
  const results = await Promise.all(
    Array.from({ length: N }, () => leavingClient(`${tg.base('openai')}/v1/chat/completions`, openaiAuth, { model: 'gpt-4.1', max_tokens: 4096, messages: [{ role: 'user', content: 'write a lot' }] }, { readBytes: 256 * 1024 })),
  );
  t.same(results.map((r) => r.status), Array(N).fill(200));
  t.ok(results.every((r) => r.read < 4_000_000), 'every client left before the end');
  await Promise.all(openai.seen.map((s) => s.closed));
  t.equal(openai.seen.length, N);
  t.same(openai.seen.map((s) => s.finished), Array(N).fill(true), 'the fake upstream saw each body fully consumed');
  let u = await settledUsage(t, tg);
  // 9 in × 4 + 4,000 out × 16 per 1,000 = 64.036 credits = 64,036,000 µcr, × 20.
  t.equal(Math.round(u.credits.used * 1e6), 20 * 64_036_000, '1,280.72 credits: exactly what the provider reported');
  t.equal(u.requestCount, N);
  t.equal(u.reserved, 0, 'nothing left reserved');

  // Anthropic Messages: 12 in × 6 + 3,000 out × 30 per 1,000 = 90.072 credits each, × 5.
  const a = await Promise.all(
    Array.from({ length: 5 }, () => leavingClient(`${tg.base('anthropic')}/v1/messages`, anthropicAuth, { model: 'claude-sonnet-4', max_tokens: 4096, messages: [{ role: 'user', content: 'write a lot' }] }, { readBytes: 128 * 1024 })),
  );
  t.same(a.map((r) => r.status), Array(5).fill(200));
  await Promise.all(anthropic.seen.map((s) => s.closed));
  t.same(anthropic.seen.map((s) => s.finished), Array(5).fill(true));
  u = await settledUsage(t, tg);
  t.equal(Math.round(u.credits.used * 1e6), 20 * 64_036_000 + 5 * 90_072_000);
  t.equal(u.reserved, 0);
});

t.test('(b) the client gives up before the headers: tollgate waits for the answer and charges its usage (120 requests)', async (t) => {
  // Each client aborts 50 ms after the provider has its call (so the call was forwarded; a
  // client gone before that is not forwarded at all); the provider answers 300 ms after it.
  const arrived = new Map<string, () => void>();
  const openai = await fakeProvider(t, async (req, body, res) => {
    arrived.get(String(req.headers['x-test-id']))?.();
    await new Promise((r) => setTimeout(r, 300));
    const b = JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion', created: 1764547200, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(b)) });
    res.end(b);
  });
  const tg = await startTollgate({ providers: { openai: { baseUrl: openai.url, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(() => tg.close());
  const N = 120;
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) => {
      const atProvider = new Promise<void>((r) => arrived.set(String(i), r));
      const abortAt = atProvider.then(() => new Promise<void>((r) => setTimeout(r, 50)));
      return leavingClient(`${tg.base('openai')}/v1/chat/completions`, { ...openaiAuth, 'x-test-id': String(i) }, { model: 'gpt-4.1', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }, { abortAt });
    }),
  );
  t.same(results.map((r) => r.status), Array(N).fill(undefined), 'no client saw the headers');
  const u = await settledUsage(t, tg);
  t.equal(openai.seen.length, N, 'every call reached the provider');
  await Promise.all(openai.seen.map((s) => s.closed));
  t.same(openai.seen.map((s) => s.finished), Array(N).fill(true), 'and was not cut');
  // 1,000 in × 4 + 500 out × 16 per 1,000 = 12 credits each.
  t.equal(Math.round(u.credits.used * 1e6), N * 12_000_000, '1,440 credits = 120 × 12');
  t.equal(u.requestCount, N);
  t.equal(u.reserved, 0);
});

t.test('(c) a streamed answer the client cuts is stopped upstream and charged what was streamed', async (t) => {
  const openai = await fakeProvider(t, async (_req, body, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (content: string) => `data: ${JSON.stringify({ id: 'chatcmpl-3', object: 'chat.completion.chunk', created: 1764547200, model: body.model, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    // Deltas of 40 characters every 20 ms until cut (at most 10 s).
    for (let i = 0; i < 500 && !res.destroyed; i++) {
      res.write(chunk('y'.repeat(40)));
      await new Promise((r) => setTimeout(r, 20));
    }
    res.end('data: [DONE]\n\n');
  });
  const tg = await startTollgate({ providers: { openai: { baseUrl: openai.url, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(() => tg.close());
  const u0 = await tg.usage();
  // 3,984 characters: ceil(3984 / 4) + 4 = 1,000 input tokens estimated.
  const body = { model: 'gpt-4.1', max_tokens: 2000, stream: true, messages: [{ role: 'user', content: 'x'.repeat(3984) }] };
  const res = await fetch(`${tg.base('openai')}/v1/chat/completions`, { method: 'POST', headers: { ...openaiAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reader = res.body!.getReader();
  let text = '';
  while ((text.match(/"content":"y+"/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
  const deltas = (text.match(/"content":"y+"/g) ?? []).length;
  await reader.cancel();
  await openai.seen[0]!.closed;
  t.equal(openai.seen[0]!.cut, true, 'the fake provider saw its socket closed before the end');
  const u = await settledUsage(t, tg);
  // What the client got: `deltas` × 40 characters = deltas × 10 tokens (tollgate counts what it forwarded, which can be one
  // event ahead of the client's read); charged 1,000 × 4 + out × 16 per 1,000.
  const charged = Math.round((u.credits.used - u0.credits.used) * 1e6);
  t.ok(charged >= 4_000_000 + deltas * 10 * 16_000, `charged ${charged} µcr: at least the ${deltas} deltas the client read`);
  t.ok(charged <= 4_000_000 + (deltas + 3) * 10 * 16_000, 'and only what was streamed before the cut');
  t.equal((charged - 4_000_000) % 160_000, 0, 'a whole number of 40-character deltas (10 tokens × 16 µcr × 1,000)');
  t.equal(u.reserved, 0);
});

t.test('(d) past proxy.drainMaxBytes the answer is cut and charged the reservation (or the usage already read)', async (t) => {
  let usageFirst = false;
  // 32 MB of content: more than the loopback's socket buffers hold, so a cut shows upstream.
  const openai = await fakeProvider(t, (req, body, res) => openaiBig(req, body, res, { prompt_tokens: 9, completion_tokens: 4000, total_tokens: 4009 }, usageFirst, 32));
  const tg = await startTollgate({ proxy: { drainMaxBytes: 1024 * 1024 }, providers: { openai: { baseUrl: openai.url, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(() => tg.close());
  // 'hi': the input's upper bound is its 2 UTF-8 bytes + 4 for the message = 6 tokens (hard cap,
  // proxy/meters/llm.ts); max_tokens 5,000: 6 × 4 + 5,000 × 16 per 1,000 = 80.024 credits.
  const body = { model: 'gpt-4.1', max_tokens: 5000, messages: [{ role: 'user', content: 'hi' }] };
  const r = await leavingClient(`${tg.base('openai')}/v1/chat/completions`, openaiAuth, body, { readBytes: 64 * 1024 });
  t.equal(r.status, 200);
  await openai.seen[0]!.closed;
  t.equal(openai.seen[0]!.cut, true, 'the upstream body is cut past the bound');
  let u = await settledUsage(t, tg);
  t.equal(Math.round(u.credits.used * 1e6), 80_024_000, 'charged the reservation estimate: 80.024 credits');
  t.equal(u.reserved, 0);

  // The same answer with its usage first: the report was read before the bound, so it is charged.
  usageFirst = true;
  const r2 = await leavingClient(`${tg.base('openai')}/v1/chat/completions`, openaiAuth, body, { readBytes: 64 * 1024 });
  t.equal(r2.status, 200);
  await openai.seen[1]!.closed;
  t.equal(openai.seen[1]!.cut, true);
  u = await settledUsage(t, tg);
  t.equal(Math.round(u.credits.used * 1e6), 80_024_000 + 64_036_000, 'charged the usage the provider reported: 64.036 credits');
});

// Diagnostics: twice under the full suite's load this file's process stayed up after its last
// test until tap's timeout. Name what is still open, so the log says what kept it.
t.teardown(() => {
  setTimeout(() => console.error('# still open 5 s after the last test:', process.getActiveResourcesInfo().join(', ')), 5_000).unref();
});
