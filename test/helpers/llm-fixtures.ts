// Test helper: the recorded-shape LLM fixtures in test/fixtures/<provider>/ (read from the source
// tree: tsc does not copy them), and a fake upstream that answers each provider's chat route
// from them the way the provider does (OpenAI sends its usage chunk only when asked).

import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { startUpstream, type RecordedRequest, type Upstream } from './upstream.js';

export type LlmProvider = 'openai' | 'anthropic' | 'groq' | 'mistral';

// dist/test/helpers/ -> test/fixtures/
const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);

export function fixtureText(provider: LlmProvider, name: string): string {
  return readFileSync(new URL(`${provider}/${name}`, FIXTURES), 'utf8');
}

/** An SSE fixture split into its events, each with its terminating blank line. */
export function sseBlocks(text: string): string[] {
  return text.split(/(?<=\n\n)/).filter((b) => b.trim() !== '');
}

export function body(req: RecordedRequest): Record<string, any> {
  return JSON.parse(req.body.toString('utf8'));
}

export interface WriteSseOptions {
  /** Write only the first `n` events, then do `then`. */
  upTo?: number;
  /** After `upTo` events: end the body, wait forever (until the connection closes), or reset the socket. */
  then?: 'end' | 'hang' | 'reset';
  /** Awaited before `then` (e.g. until the client has seen the events). */
  before?: Promise<unknown>;
}

/** Writes SSE events one write each, so tollgate sees them as separate chunks. */
export async function writeSse(res: ServerResponse, blocks: readonly string[], o: WriteSseOptions = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const n = o.upTo ?? blocks.length;
  for (const b of blocks.slice(0, n)) await new Promise<void>((r) => res.write(b, () => r()));
  if (o.before) await o.before;
  switch (o.then ?? 'end') {
    case 'end':
      res.end();
      return;
    case 'hang':
      await new Promise((r) => res.once('close', r));
      return;
    case 'reset':
      res.socket?.destroy();
      return;
  }
}

export function writeJson(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** The fixture a provider answers a request with: `[name, isStream]`. */
export function fixtureFor(provider: LlmProvider, req: RecordedRequest): { name: string; stream: boolean } {
  const b = body(req);
  const stream = b.stream === true;
  if (provider === 'anthropic') return { name: stream ? 'messages-stream.sse' : 'messages.json', stream };
  if (provider === 'openai' && req.path.endsWith('/responses')) return { name: stream ? 'responses-stream.sse' : 'responses.json', stream };
  return { name: stream ? 'chat-stream.sse' : 'chat-completion.json', stream };
}

/** OpenAI omits the usage chunk (`choices: []`) unless the request asked for include_usage. */
export function blocksFor(provider: LlmProvider, req: RecordedRequest, name: string): string[] {
  const blocks = sseBlocks(fixtureText(provider, name));
  if (provider !== 'openai' || name !== 'chat-stream.sse') return blocks;
  if (body(req).stream_options?.include_usage === true) return blocks;
  return blocks.filter((b) => !b.includes('"choices":[]'));
}

/** A fake provider answering from the fixtures; `override` can answer a request itself (return true). */
export async function startLlmUpstream(
  provider: LlmProvider,
  override?: (req: RecordedRequest, res: ServerResponse) => boolean | Promise<boolean>,
): Promise<Upstream> {
  return startUpstream(async (req, res) => {
    if (override && (await override(req, res))) return;
    const f = fixtureFor(provider, req);
    if (f.stream) await writeSse(res, blocksFor(provider, req, f.name));
    else writeJson(res, 200, fixtureText(provider, f.name));
  });
}

/**
 * A stream cut before the provider reported usage: the `*-cut.sse` fixture for the request's
 * route (three deltas of 40 characters, 120 in all, after the provider's opening events).
 */
export function cutBlocks(provider: LlmProvider, req: RecordedRequest): string[] {
  const name = provider === 'anthropic' ? 'messages-stream-cut.sse' : req.path.endsWith('/responses') ? 'responses-stream-cut.sse' : 'chat-stream-cut.sse';
  return sseBlocks(fixtureText(provider, name));
}

/** The whole stream, usage report included, without its terminal event ([DONE] / message_stop). */
export function reportedBlocks(provider: LlmProvider, req: RecordedRequest): string[] {
  const f = fixtureFor(provider, req);
  return blocksFor(provider, req, f.name).filter((b) => !b.includes('[DONE]') && !b.startsWith('event: message_stop') && !b.startsWith('event: response.completed'));
}

/** A one-shot latch: tests open it once the client has seen what the upstream sent. */
export function latch(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}
