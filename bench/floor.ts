// Benchmark reference (a child process): the least a Node proxy can do per request, node:http
// in and undici's dispatch out, with no auth, no metering, no logging and no header hygiene.
// Not a proxy to deploy; it measures the cost floor of the runtime and the two HTTP stacks,
// against which tollgate's own work (and http-proxy-3's) can be read.
// Usage: node dist/bench/floor.js UPSTREAM_URL

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const target = process.argv[2];
if (!target) throw new Error('usage: floor.js UPSTREAM_URL');
const pool = new Pool(target, { connections: null, pipelining: 1 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    const h: IncomingHttpHeaders = req.headers;
    for (const k in h) if (!HOP.has(k) && typeof h[k] === 'string') headers[k] = h[k];
    headers['content-length'] = String(body.length);
    const url = req.url ?? '/';
    let controller: Dispatcher.DispatchController | undefined;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
      },
      onResponseStart(_c, status, upHeaders) {
        const out: Record<string, string | string[]> = {};
        for (const k in upHeaders) if (!HOP.has(k) && upHeaders[k] !== undefined) out[k] = upHeaders[k]!;
        res.writeHead(status, out);
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) c.pause();
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError() {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      },
    };
    res.on('drain', () => controller?.resume());
    pool.dispatch({ path: url.startsWith('/openai/') ? url.slice(7) : url, method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers, body }, handler);
  });
});
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
