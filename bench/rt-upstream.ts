// Benchmark realtime upstream (a child process): a WebSocket server standing in for Deepgram's
// `/v1/listen`. Every binary frame is answered at once with a small text frame carrying the
// frame's first 8 bytes (the client's sequence number), so a client can time each frame's trip
// through a relay. Run: node dist/bench/rt-upstream.js (forked; reports its port over IPC).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary || data.length < 8) return;
    ws.send(`{"type":"Results","seq":${data.readDoubleLE(0)}}`);
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
