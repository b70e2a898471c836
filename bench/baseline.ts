// Benchmark baseline (a child process): a plain http-proxy-3 pass-through — no auth, no
// metering, no ledger — with a keep-alive agent to the upstream, the strongest plain Node proxy.
// `/openai/…` is forwarded as `/…`, as tollgate does. Usage: node dist/bench/baseline.js URL

import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';

const target = process.argv[2];
if (!target) throw new Error('usage: baseline.js UPSTREAM_URL');

const proxy = createProxyServer({ target, agent: new Agent({ keepAlive: true, maxSockets: Infinity }) });
proxy.on('error', (_err: Error, _req: unknown, res: unknown) => {
  const r = res as { headersSent?: boolean; writeHead?: (s: number) => void; end?: () => void; destroy?: () => void };
  if (r.writeHead && !r.headersSent) {
    r.writeHead(502);
    r.end?.();
  } else r.destroy?.();
});

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const url = req.url ?? '/';
  if (url.startsWith('/openai/')) req.url = url.slice(7);
  proxy.web(req, res);
});
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
