// Benchmark realtime baseline (a child process): a plain `ws` relay, no auth, no metering, no
// ledger: terminates the client's socket, opens one to the upstream, relays frames with their
// opcode both ways. `/deepgram/…` is forwarded as `/…`, as tollgate does.
// Usage: node dist/bench/rt-relay.js UPSTREAM_URL (BENCH_PORT=N: listen there)

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

const target = (process.argv[2] ?? '').replace(/^http/, 'ws');
if (!target) throw new Error('usage: rt-relay.js UPSTREAM_URL');
const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
server.on('upgrade', (req, socket, head) => {
  const path = (req.url ?? '/').replace(/^\/deepgram/, '');
  const up = new WebSocket(target + path, { perMessageDeflate: false });
  up.once('error', () => socket.destroy());
  up.once('open', () =>
    wss.handleUpgrade(req, socket, head, (client) => {
      client.on('message', (d, binary) => up.send(d as Buffer, { binary }));
      up.on('message', (d, binary) => client.send(d as Buffer, { binary }));
      client.on('close', () => up.close());
      up.on('close', () => client.close());
      client.on('error', () => {});
    }),
  );
});
// BENCH_PORT: a fixed port, for a run under valgrind (no IPC channel there).
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
