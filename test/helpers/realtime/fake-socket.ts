// Test helper: a local WebSocket server standing in for a provider's realtime endpoint. Records
// every connection (path, query as a multi-map, headers, offered subprotocols), every frame it
// received with its opcode, and how the socket closed; a provider's fake gives the behaviour.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

export interface ReceivedFrame {
  binary: boolean;
  data: Buffer;
  /** The frame as UTF-8 text (text frames; binary frames decode too, for convenience). */
  text: string;
}

export interface FakeConnection {
  path: string;
  /** The query as sent, duplicates kept (`getAll`). */
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Subprotocols the client offered (`Sec-WebSocket-Protocol`), in order. */
  protocols: string[];
  frames: ReceivedFrame[];
  /** Close code and reason the fake saw (1005 when the peer sent none, 1006 when it vanished). */
  closed?: { code: number; reason: string };
  socket: WebSocket;
  /** Free-form state a provider's fake keeps per connection. */
  state: Record<string, unknown>;
}

export interface FakeBehaviour {
  /** Called when a client connects; may answer at once (a `session.created`) or close it. */
  onOpen?(c: FakeConnection): void;
  /** Called for every frame, after it was recorded. */
  onFrame(c: FakeConnection, frame: ReceivedFrame): void;
  /** Chooses the answer subprotocol from those offered (default: none). */
  protocol?(offered: string[]): string | false;
}

export interface FakeSocketServer {
  /** `http://127.0.0.1:PORT`: the provider's `baseUrl` in tollgate's config. */
  url: string;
  connections: FakeConnection[];
  /** Waits until `n` connections have closed (generous deadline: the machine is shared). */
  closedCount(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function frameOf(data: RawData, binary: boolean): ReceivedFrame {
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return { binary, data: buf, text: buf.toString('utf8') };
}

export async function startFakeSocketServer(behaviour: FakeBehaviour): Promise<FakeSocketServer> {
  const connections: FakeConnection[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade required');
  });
  const wss = new WebSocketServer({
    server,
    handleProtocols: (offered) => (behaviour.protocol ? behaviour.protocol([...offered]) : false),
  });
  wss.on('connection', (socket, req) => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const c: FakeConnection = { path: u.pathname, query: u.searchParams, headers: req.headers, protocols: offered, frames: [], socket, state: {} };
    connections.push(c);
    socket.on('message', (data, isBinary) => {
      const frame = frameOf(data, isBinary);
      c.frames.push(frame);
      behaviour.onFrame(c, frame);
    });
    socket.on('close', (code, reason) => {
      c.closed = { code, reason: reason.toString('utf8') };
    });
    socket.on('error', () => {});
    behaviour.onOpen?.(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    async closedCount(n, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (connections.filter((c) => c.closed).length < n) {
        if (Date.now() > end) throw new Error(`fake: ${connections.filter((c) => c.closed).length} of ${n} connections closed in time`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of connections) c.socket.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Sends JSON as a text frame if the socket is still open. */
export function sendJson(c: FakeConnection, value: unknown): void {
  if (c.socket.readyState === c.socket.OPEN) c.socket.send(JSON.stringify(value));
}

/** The JSON of a text frame, or undefined. */
export function jsonOf(frame: ReceivedFrame): Record<string, unknown> | undefined {
  if (frame.binary) return undefined;
  try {
    const v = JSON.parse(frame.text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
