// Test helper for the chaos soak: one local server speaking OpenAI (chat JSON and SSE,
// transcriptions), Anthropic (messages JSON and SSE), ElevenLabs TTS and Kokoro TTS, each under
// its own path prefix, that keeps the provider's own bill: for every request it answered, what
// the provider would charge (tokens, characters, audio ms) priced with tollgate's price table.
//
// The request says how to misbehave (headers forwarded by tollgate, never read by it):
//   x-request-id     soak.<account>.<n>: the bill's key
//   x-soak-out       output tokens the model wants to write (the forwarded max_tokens caps it)
//   x-soak-fault     none | 5xx | reset-before | hold | big | wait-at-k | reset-at-k
//   x-soak-k         for *-at-k: content deltas streamed before the fault
// Billing rules, as real providers bill: a failed (5xx) or reset-before request costs nothing;
// a non-streamed answer is billed once produced, whether or not anyone reads it (`hold` produces
// it after 250 ms and announces its arrival first, so the client can leave before the headers);
// a stream is billed for what it streamed when its connection closed (input + deltas written).

import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pricing } from '../../pricing/index.js';

export type SoakUnits = { inputTokens?: number; outputTokens?: number; chars?: number; audioMs?: number };

export interface BillLine {
  id: string;
  account: string;
  provider: string;
  /** What the platform pays for it (0 for BYOK: the customer's key pays). */
  micro: number;
  byok: boolean;
  units: SoakUnits;
  /** The provider's count of the prompt it was sent (LLM), whatever happened after. */
  inputMicro: number;
}

export interface SoakProviders {
  url: string;
  /** Every request the providers received, by request id (received ≠ billed). */
  received: Map<string, number>;
  bill: Map<string, BillLine>;
  /** Fires `received:<id>` when a request (any fault) has fully arrived. */
  events: EventEmitter;
  close(): Promise<void>;
}

export const PLATFORM_KEYS = { openai: 'sk-platform-openai-soak', anthropic: 'sk-ant-platform-soak', elevenlabs: 'xi-platform-soak' };
export const BYOK_PREFIX = 'sk-byok-';
export const DELTA = 'tok ';

/** The fakes' tokenizer: an ASCII token is up to 4 characters, anything else a token a code point. */
export function fakeTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) ch.charCodeAt(0) < 128 ? ascii++ : other++;
  return Math.ceil(ascii / 4) + other;
}

export function promptTokens(messages: Array<{ content: unknown }>, system?: unknown): number {
  let n = 4;
  for (const m of messages) n += fakeTokens(typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
  if (typeof system === 'string') n += fakeTokens(system);
  return n;
}

export async function startSoakProviders(pricing: Pricing): Promise<SoakProviders> {
  const received = new Map<string, number>();
  const bill = new Map<string, BillLine>();
  const events = new EventEmitter();
  events.setMaxListeners(0);

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the request never fully arrived: nothing to run, nothing billed
    }
    const raw = Buffer.concat(chunks);
    const id = String(req.headers['x-request-id'] ?? '');
    const account = id.split('.')[1] ?? '?';
    received.set(id, (received.get(id) ?? 0) + 1);
    const fault = String(req.headers['x-soak-fault'] ?? 'none');
    events.emit(`received:${id}`);
    if (fault === 'reset-before') {
      req.socket.destroy();
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const provider = path.split('/')[1]!;
    const ctx: Ctx = { req, res, raw, id, account, provider, fault, out: Number(req.headers['x-soak-out'] ?? 0), k: Number(req.headers['x-soak-k'] ?? 0) };
    try {
      if (fault === '5xx') return fail(ctx);
      if (fault === 'hold') await sleep(250);
      if (path === '/openai/v1/chat/completions') await openaiChat(ctx);
      else if (path === '/anthropic/v1/messages') await anthropicMessages(ctx);
      else if (path === '/openai/v1/audio/transcriptions') openaiTranscription(ctx);
      else if (path.startsWith('/elevenlabs/v1/text-to-speech/')) await tts(ctx, String(JSON.parse(raw.toString()).text), pricing.ttsRate('elevenlabs')!);
      else if (path === '/kokoro/v1/audio/speech') await tts(ctx, String(JSON.parse(raw.toString()).input), pricing.ttsRate('kokoro')!);
      else {
        res.writeHead(404).end();
      }
    } catch (err) {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(err));
    }
  });

  interface Ctx {
    req: IncomingMessage;
    res: ServerResponse;
    raw: Buffer;
    id: string;
    account: string;
    provider: string;
    fault: string;
    out: number;
    k: number;
  }

  const byokOf = (ctx: Ctx): boolean => {
    const key = String(ctx.req.headers.authorization ?? ctx.req.headers['x-api-key'] ?? ctx.req.headers['xi-api-key'] ?? '');
    return key.includes(BYOK_PREFIX);
  };

  const charge = (ctx: Ctx, units: SoakUnits, micro: number, inputMicro: number, selfHosted = false): void => {
    const byok = !selfHosted && byokOf(ctx);
    if (bill.has(ctx.id)) throw new Error(`billed twice: ${ctx.id}`);
    bill.set(ctx.id, { id: ctx.id, account: ctx.account, provider: ctx.provider, micro: byok ? 0 : micro, byok, units, inputMicro: byok ? 0 : inputMicro });
  };

  const llmBill = (ctx: Ctx, model: string, input: number, output: number): void => {
    const rate = pricing.llmRate(ctx.provider, model)!;
    charge(ctx, { inputTokens: input, outputTokens: output }, pricing.llmCost(rate, { inputTokens: input, outputTokens: output }), pricing.llmCost(rate, { inputTokens: input, outputTokens: 0 }));
  };

  function fail(ctx: Ctx): void {
    const body = ctx.provider === 'anthropic' ? { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } : { error: { message: 'The server had an error', type: 'server_error', code: null } };
    writeJson(ctx.res, ctx.provider === 'anthropic' ? 529 : 500, JSON.stringify(body));
  }

  /** Writes with backpressure; false when the connection closed first. */
  async function write(res: ServerResponse, data: string | Buffer): Promise<boolean> {
    if (res.destroyed) return false;
    if (res.write(data)) return true;
    return new Promise((r) => {
      const done = (ok: boolean) => {
        res.off('drain', onDrain);
        res.off('close', onClose);
        r(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      res.on('drain', onDrain);
      res.on('close', onClose);
    });
  }

  /** After `k` deltas: `wait-at-k` waits (up to 10 s) for the client to leave; `reset-at-k` cuts the connection. True: stop. */
  async function faultAtK(ctx: Ctx, written: number): Promise<boolean> {
    if (written !== ctx.k) return false;
    if (ctx.fault === 'reset-at-k') {
      ctx.res.socket?.end();
      return true;
    }
    if (ctx.fault === 'wait-at-k') {
      if (ctx.res.destroyed) return true;
      const closed = await Promise.race([new Promise<boolean>((r) => ctx.res.once('close', () => r(true))), sleep(10_000).then(() => false)]);
      return closed;
    }
    return false;
  }

  async function openaiChat(ctx: Ctx): Promise<void> {
    const b = JSON.parse(ctx.raw.toString()) as { model: string; messages: Array<{ content: unknown }>; stream?: boolean; max_tokens?: number; max_completion_tokens?: number; stream_options?: { include_usage?: boolean } };
    const input = promptTokens(b.messages);
    const cap = b.max_completion_tokens ?? b.max_tokens;
    const out = cap !== undefined ? Math.min(ctx.out, cap) : ctx.out;
    const model = `${b.model}-2025-04-14`;
    if (!b.stream) {
      llmBill(ctx, b.model, input, out);
      const content = ctx.fault === 'big' ? 'x'.repeat(1_500_000) : DELTA.repeat(out);
      const body = JSON.stringify({
        id: `chatcmpl-${ctx.id}`, object: 'chat.completion', created: 1764720000, model,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: input, completion_tokens: out, total_tokens: input + out },
      });
      await writeBig(ctx.res, body);
      return;
    }
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: `chatcmpl-${ctx.id}`, object: 'chat.completion.chunk', created: 1764720000, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let written = 0;
    let alive = await write(ctx.res, chunk({ role: 'assistant', content: '' }));
    while (alive && written < out) {
      alive = await write(ctx.res, chunk({ content: DELTA }));
      if (alive) written++;
      if (alive && (await faultAtK(ctx, written))) alive = false;
    }
    llmBill(ctx, b.model, input, written);
    if (!alive) return;
    await write(ctx.res, chunk({}, 'stop'));
    if (b.stream_options?.include_usage) await write(ctx.res, `data: ${JSON.stringify({ id: `chatcmpl-${ctx.id}`, object: 'chat.completion.chunk', created: 1764720000, model, choices: [], usage: { prompt_tokens: input, completion_tokens: written, total_tokens: input + written } })}\n\n`);
    await write(ctx.res, 'data: [DONE]\n\n');
    ctx.res.end();
  }

  async function anthropicMessages(ctx: Ctx): Promise<void> {
    const b = JSON.parse(ctx.raw.toString()) as { model: string; messages: Array<{ content: unknown }>; system?: unknown; stream?: boolean; max_tokens: number };
    const input = promptTokens(b.messages, b.system);
    const out = Math.min(ctx.out, b.max_tokens);
    const model = `${b.model}-20241022`;
    if (!b.stream) {
      llmBill(ctx, b.model, input, out);
      const text = ctx.fault === 'big' ? 'x'.repeat(1_500_000) : DELTA.repeat(out);
      await writeBig(ctx.res, JSON.stringify({
        id: `msg_${ctx.id}`, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }],
        stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: input, output_tokens: out },
      }));
      return;
    }
    const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let written = 0;
    let alive = await write(ctx.res, ev('message_start', { message: { id: `msg_${ctx.id}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: input, output_tokens: 1 } } }));
    if (alive) alive = await write(ctx.res, ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    while (alive && written < out) {
      alive = await write(ctx.res, ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: DELTA } }));
      if (alive) written++;
      if (alive && (await faultAtK(ctx, written))) alive = false;
    }
    llmBill(ctx, b.model, input, written);
    if (!alive) return;
    await write(ctx.res, ev('content_block_stop', { index: 0 }));
    await write(ctx.res, ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: written } }));
    await write(ctx.res, ev('message_stop', {}));
    ctx.res.end();
  }

  /** Whisper: the WAV's exact duration (whole seconds in the soak, so per-second billing agrees). */
  function openaiTranscription(ctx: Ctx): void {
    const riff = ctx.raw.indexOf('RIFF');
    const byteRate = ctx.raw.readUInt32LE(riff + 28);
    const dataSize = ctx.raw.readUInt32LE(riff + 40);
    const audioMs = Math.round((dataSize * 1000) / byteRate);
    const micro = pricing.sttCost(pricing.sttRate('openai', 'whisper-1')!, audioMs);
    charge(ctx, { audioMs }, micro, micro);
    writeJson(ctx.res, 200, JSON.stringify({ text: 'A steady tone.', usage: { type: 'duration', seconds: audioMs / 1000 } }));
  }

  /** TTS: billed by code points once synthesized; `big` audio lets a client leave mid-body. */
  async function tts(ctx: Ctx, text: string, rate: number): Promise<void> {
    const chars = [...text].length;
    const micro = pricing.ttsCost(rate, chars);
    charge(ctx, { chars }, micro, micro, ctx.provider === 'kokoro');
    const size = ctx.fault === 'big' ? 1_500_000 : chars * 40;
    ctx.res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(size) });
    const piece = Buffer.alloc(65_536, 0xff);
    for (let left = size; left > 0; left -= piece.length) if (!(await write(ctx.res, left >= piece.length ? piece : piece.subarray(0, left)))) return;
    ctx.res.end();
  }

  async function writeBig(res: ServerResponse, body: string): Promise<void> {
    const buf = Buffer.from(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(buf.length) });
    for (let i = 0; i < buf.length; i += 65_536) if (!(await write(res, buf.subarray(i, i + 65_536)))) return;
    res.end();
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    bill,
    events,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function writeJson(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
