// Test helper: a local HTTP server standing in for a provider. Records every request (method,
// path, headers, body) and answers with the handler the test gives.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type UpstreamHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface Upstream {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** `readBody: false` leaves the request stream unread before the handler (upload tests). */
export async function startUpstream(handler: UpstreamHandler, opts: { readBody?: boolean; onRequest?: (req: IncomingMessage, res: ServerResponse) => boolean } = {}): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    if (opts.onRequest?.(req, res)) return;
    const chunks: Buffer[] = [];
    if (opts.readBody !== false) for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://upstream');
    const rec: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
    requests.push(rec);
    try {
      await handler(rec, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(err) } }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const b = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(b)), ...headers });
  res.end(b);
}

/** Writes SSE events one by one (separate writes, so the proxy sees them as separate chunks). */
export async function sse(res: ServerResponse, events: Array<{ event?: string; data: unknown }>, delayMs = 0): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) {
    const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
    res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${data}\n\n`);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
  res.end();
}
