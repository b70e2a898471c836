// Benchmark upstream (a child process): an OpenAI-style chat endpoint that answers at once or
// after `x-bench-delay` ms, as JSON with usage or as an SSE stream, plus an upload sink.
// Run: node dist/bench/upstream.js (forked; reports its port over IPC).
//
// Request headers (forwarded by both proxies) choose the answer:
//   x-bench-delay: ms before the response headers (the "20 ms upstream")
//   x-bench-chunks / x-bench-interval: SSE events and the ms between them
//   x-bench-hold: 1  keep the stream open after its first event until GET /release
// Every SSE event carries `"t":<µs of CLOCK_MONOTONIC>` so the client can time each chunk's
// trip (process.hrtime is system-wide on Linux, so the clocks agree across processes).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const CHAT_JSON = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4.1-2025-04-14',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 24, completion_tokens: 9, total_tokens: 33, prompt_tokens_details: { cached_tokens: 0 } },
    service_tier: 'default',
    system_fingerprint: 'fp_bench',
  }),
);
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': String(CHAT_JSON.length) };
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const chunk = (i: number) =>
  `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"content":"tok${i} "}}],"usage":null,"t":${nowUs()}}\n\n`;
const usageChunk = () =>
  `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4.1-2025-04-14","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":9,"total_tokens":33},"t":${nowUs()}}\n\ndata: [DONE]\n\n`;

const held = new Set<ServerResponse>();
const num = (v: string | string[] | undefined, d: number) => {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isFinite(n) && n >= 0 ? n : d;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const n = num(req.headers['x-bench-chunks'], 8);
  const interval = num(req.headers['x-bench-interval'], 2);
  res.writeHead(200, SSE_HEADERS);
  res.write(chunk(0));
  if (req.headers['x-bench-hold'] === '1') {
    held.add(res);
    res.once('close', () => held.delete(res));
    return;
  }
  for (let i = 1; i < n; i++) {
    if (interval) await sleep(interval);
    if (res.destroyed) return;
    res.write(chunk(i));
  }
  if (interval) await sleep(interval);
  res.end(usageChunk());
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/release') {
    const n = held.size;
    for (const r of held) r.end(usageChunk());
    held.clear();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ released: n }));
    return;
  }
  if (req.method === 'GET' && url === '/held') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ held: held.size }));
    return;
  }
  if (url.endsWith('/chat/completions')) {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const delay = num(req.headers['x-bench-delay'], 0);
    if (delay) await sleep(delay);
    if (body.includes('"stream":true')) return stream(req, res);
    res.writeHead(200, JSON_HEADERS);
    res.end(CHAT_JSON);
    return;
  }
  // Anything else is an upload sink: count the bytes, answer with the count.
  let bytes = 0;
  for await (const c of req) bytes += (c as Buffer).length;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ bytes }));
}

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(500);
    res.end(String(err));
  });
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
