// Test helper for the Free cap (issue 18): a fake OpenAI-format provider whose model writes as
// many tokens as the request allows, and a gate that holds every answer until all of a burst's
// requests have been admitted or refused, so every reservation is held at once.

import type { ServerResponse } from 'node:http';
import { startUpstream, type RecordedRequest, type Upstream } from './upstream.js';
import { latch } from './llm-fixtures.js';

export interface WritingProviderOptions {
  /** Tokens the model writes when the request names no limit; default 8,000. */
  unbounded?: number;
  /** Report `unbounded` output tokens whatever limit was sent (a provider that overshoots). */
  ignoreBound?: boolean;
  /** Called as each request arrives, before it waits for `hold`. */
  onArrive?(): void;
  /** Every answer waits for it. */
  hold?: Promise<void>;
}

/** UTF-8 bytes of the text of the request's messages (or Responses `input`): the prompt tokens reported (one a byte, the worst a BPE can do). */
export function promptBytes(b: Record<string, any>): number {
  const texts: string[] = [];
  for (const m of b.messages ?? []) texts.push(typeof m.content === 'string' ? m.content : '');
  if (typeof b.input === 'string') texts.push(b.input);
  return texts.reduce((s, x) => s + Buffer.byteLength(x, 'utf8'), 0);
}

/**
 * Chat completions (JSON or SSE, with the usage chunk when `stream_options.include_usage`) and
 * Responses (JSON), each reporting prompt tokens = promptBytes and output tokens = the limit
 * the request carries (max_completion_tokens, max_tokens, max_output_tokens), else `unbounded`.
 */
export async function startWritingProvider(o: WritingProviderOptions = {}): Promise<Upstream> {
  const unbounded = o.unbounded ?? 8_000;
  return startUpstream(async (req: RecordedRequest, res: ServerResponse) => {
    o.onArrive?.();
    if (o.hold) await o.hold;
    const b = JSON.parse(req.body.toString('utf8')) as Record<string, any>;
    const limit = b.max_completion_tokens ?? b.max_tokens ?? b.max_output_tokens;
    const out = o.ignoreBound || typeof limit !== 'number' ? unbounded : limit;
    const prompt = promptBytes(b);
    if (req.path.endsWith('/responses')) {
      send(res, { id: 'resp_1', object: 'response', status: 'completed', model: b.model, output: [], usage: { input_tokens: prompt, output_tokens: out, total_tokens: prompt + out } });
      return;
    }
    const usage = { prompt_tokens: prompt, completion_tokens: out, total_tokens: prompt + out };
    if (b.stream !== true) {
      send(res, {
        id: 'chatcmpl-1', object: 'chat.completion', created: 1752000000, model: b.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(8), refusal: null }, logprobs: null, finish_reason: 'length' }],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    const chunk = (choices: unknown[], u: unknown) => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1752000000, model: b.model, choices, usage: u })}\n\n`;
    res.write(chunk([{ index: 0, delta: { role: 'assistant', content: 'word' }, finish_reason: null }], null));
    res.write(chunk([{ index: 0, delta: {}, finish_reason: 'length' }], null));
    if (b.stream_options?.include_usage === true) res.write(chunk([], usage));
    res.end('data: [DONE]\n\n');
  });
}

function send(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/**
 * A burst of `n` requests whose answers wait until each has been admitted (reached the
 * provider) or refused: `arrive` goes to the provider's onArrive, `refused` is called by the
 * client on a refusal, `hold` is the provider's hold.
 */
export function burstGate(n: number): { hold: Promise<void>; arrive(): void; refused(): void; counts(): { arrived: number; refused: number } } {
  const gate = latch();
  let arrived = 0;
  let refusedN = 0;
  const check = () => {
    if (arrived + refusedN === n) gate.open();
  };
  return {
    hold: gate.wait,
    arrive() {
      arrived++;
      check();
    },
    refused() {
      refusedN++;
      check();
    },
    counts: () => ({ arrived, refused: refusedN }),
  };
}
