// Test helper: a local fake of Deepgram's realtime sockets speaking its real frames.
// `/v1/listen`: binary audio in; `Results` JSON out per second of audio (raw encodings);
// `KeepAlive`/`Finalize` text ignored; `CloseStream` → `Metadata{duration}` then close 1000.
// `/v1/speak`: `Metadata` on open; `Speak{text}` → binary audio (100 bytes per character);
// `Flush` → `Flushed{sequence_id}`; `Clear` → `Cleared`; `Close` → close 1000.
// `/v2/listen` (Flux): `Connected` on open; binary audio in, `TurnInfo` out per second;
// `CloseStream` → closed without a status code (as Flux does: no summary, no code).
// The handshake needs `Authorization: Token <key>` (else HTTP 401, as Deepgram answers).
// Everything each connection received is recorded: url, headers, subprotocols, frames, bytes.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface DgConnection {
  path: string;
  query: URLSearchParams;
  url: string;
  headers: IncomingHttpHeaders;
  /** `Sec-WebSocket-Protocol` as received ('' when none). */
  protocols: string;
  /** Binary bytes received. */
  bytes: number;
  binaryFrames: number;
  /** Text frames received, as strings. */
  texts: string[];
  closed?: { code: number; reason: string };
  ws: WebSocket;
}

export interface FakeDeepgram {
  url: string;
  connections: DgConnection[];
  /** Handshakes refused (wrong key). */
  refused: number;
  close(): Promise<void>;
}

export async function startFakeDeepgram(opts: { key?: string } = {}): Promise<FakeDeepgram> {
  const key = opts.key ?? 'dg-platform-key';
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const fake: FakeDeepgram = {
    url: '',
    connections: [],
    refused: 0,
    async close() {
      for (const c of fake.connections) c.ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  server.on('upgrade', (req, socket, head) => {
    if (req.headers.authorization !== `Token ${key}`) {
      fake.refused++;
      const body = JSON.stringify({ err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: 'r' });
      socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const c: DgConnection = {
        path: u.pathname,
        query: u.searchParams,
        url: req.url ?? '',
        headers: req.headers,
        protocols: String(req.headers['sec-websocket-protocol'] ?? ''),
        bytes: 0,
        binaryFrames: 0,
        texts: [],
        ws,
      };
      fake.connections.push(c);
      ws.on('close', (code, reason) => (c.closed = { code, reason: reason.toString() }));
      if (u.pathname === '/v1/listen') listen(c);
      else if (u.pathname === '/v1/speak') speak(c);
      else if (u.pathname === '/v2/listen') flux(c);
      else ws.close(1008, 'unknown path');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/**
 * The live STT sockets' common loop: binary audio counted, `perSecond(start)` sent for each whole
 * second of it, text frames recorded and handed to `onText` (parsed).
 */
function audioIn(c: DgConnection, bytesPerSecond: number, perSecond: (start: number) => unknown, onText: (msg: { type?: string }) => void): void {
  let reported = 0;
  c.ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) {
      c.bytes += data.length;
      c.binaryFrames++;
      while (c.bytes - reported >= bytesPerSecond) {
        const start = reported / bytesPerSecond;
        reported += bytesPerSecond;
        c.ws.send(JSON.stringify(perSecond(start)));
      }
      return;
    }
    const text = data.toString();
    c.texts.push(text);
    onText(JSON.parse(text) as { type?: string });
  });
}

function listen(c: DgConnection): void {
  const bytesPerSecond = Number(c.query.get('sample_rate') ?? 16000) * 2 * Number(c.query.get('channels') ?? 1);
  audioIn(
    c,
    bytesPerSecond,
    (start) => ({
      type: 'Results',
      channel_index: [0, 1],
      duration: 1,
      start,
      is_final: true,
      speech_final: false,
      channel: { alternatives: [{ transcript: 'beep', confidence: 0.9, words: [] }] },
      metadata: { request_id: 'req-1', model_info: { name: 'nova-3', version: '1', arch: 'nova' }, model_uuid: 'm' },
    }),
    (msg) => {
      if (msg.type !== 'CloseStream') return;
      c.ws.send(JSON.stringify({ type: 'Metadata', transaction_key: 'deprecated', request_id: 'req-1', sha256: '0', created: new Date().toISOString(), duration: c.bytes / bytesPerSecond, channels: 1 }));
      c.ws.close(1000);
    },
  );
}

function flux(c: DgConnection): void {
  c.ws.send(JSON.stringify({ type: 'Connected', request_id: 'req-f', sequence_id: 0 }));
  audioIn(
    c,
    Number(c.query.get('sample_rate') ?? 16000) * 2,
    (start) => ({ type: 'TurnInfo', request_id: 'req-f', sequence_id: start + 1, event: 'Update', turn_index: 0, audio_window_start: start, audio_window_end: start + 1, transcript: 'beep', words: [], end_of_turn_confidence: 0.1 }),
    (msg) => {
      if (msg.type === 'CloseStream') c.ws.close();
    },
  );
}

function speak(c: DgConnection): void {
  c.ws.send(JSON.stringify({ type: 'Metadata', request_id: 'req-s', model_name: 'aura-2-thalia-en', model_version: '1', model_uuid: 'u' }));
  let seq = 0;
  c.ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) {
      c.bytes += data.length;
      return;
    }
    const text = data.toString();
    c.texts.push(text);
    const msg = JSON.parse(text) as { type?: string; text?: string };
    if (msg.type === 'Speak') c.ws.send(Buffer.alloc([...(msg.text ?? '')].length * 100, 1), { binary: true });
    else if (msg.type === 'Flush') c.ws.send(JSON.stringify({ type: 'Flushed', sequence_id: seq++ }));
    else if (msg.type === 'Clear') c.ws.send(JSON.stringify({ type: 'Cleared', sequence_id: seq++ }));
    else if (msg.type === 'Close') c.ws.close(1000);
  });
}

/** `seconds` of a 440 Hz sine as 16-bit little-endian mono PCM at `rate` Hz. */
export function sinePcm(seconds: number, rate = 16_000): Buffer {
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12_000), i * 2);
  return b;
}

/** Polls `check` until true (generous deadline: the machine is shared). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** Stops (or restarts) reading a connection's socket: a slow provider, for backpressure tests. */
export function setReading(c: DgConnection, on: boolean): void {
  const sock = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  if (on) sock.resume();
  else sock.pause();
}
