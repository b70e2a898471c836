// Test helper: one HTTP/1.1 request with node:http, for what fetch hides: bodies sent slowly or
// only in part, declared lengths, and answers that arrive while the body is still being sent.

import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  /** The request, to write more of the body or end it. */
  req: ClientRequest;
  /** Resolves with the answer (even if the server closes while the body is still being sent). */
  answer: Promise<RawAnswer>;
}

/** Starts a request; nothing of the body is sent until the caller writes it (or `body` is given). */
export function rawRequest(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): RawRequest {
  const u = new URL(base);
  const req = request({ host: u.hostname, port: u.port, method: opts.method ?? 'POST', path, headers: opts.headers ?? {}, agent: false });
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    // EPIPE / ECONNRESET while the body is still going out, after the answer came: expected.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
  });
  if (opts.body !== undefined) req.end(opts.body);
  else req.flushHeaders();
  return { req, answer };
}

/** A JSON chat request body of exactly `bytes` bytes. */
export function chatBodyOfSize(bytes: number, model = 'gpt-4.1'): Buffer {
  const head = `{"model":"${model}","messages":[{"role":"user","content":"`;
  const tail = '"}]}';
  const pad = bytes - head.length - tail.length;
  if (pad < 0) throw new Error('too small');
  return Buffer.concat([Buffer.from(head), Buffer.alloc(pad, 'a'), Buffer.from(tail)]);
}
