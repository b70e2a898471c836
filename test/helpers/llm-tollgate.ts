// Test helper for the LLM path: the four fake providers answering from fixtures, an in-process
// tollgate pointed at them, the official SDK clients configured for it (no retries, so every
// upstream request is counted exactly), and a second tollgate as a real child process.

import type { ServerResponse } from 'node:http';
import type Anthropic from '@anthropic-ai/sdk';
import type { ChatCompletionRequest, ChatCompletionResponse, ChatCompletionStreamRequest, CompletionEvent } from '@mistralai/mistralai/models/components';
import type { RequestOptions as MistralRequestOptions } from '@mistralai/mistralai/lib/sdks';
import Groq from 'groq-sdk';
import OpenAI from 'openai';
import { startLlmUpstream, type LlmProvider } from './llm-fixtures.js';
import { startOpsProcess } from './ops-process.js';
import { startTollgate, TEST_KEY, type TestTollgate } from './tollgate.js';
import type { RecordedRequest, Upstream } from './upstream.js';
import type { ProxyEvents } from '../../proxy/pipeline.js';

export const PLATFORM_KEYS: Record<LlmProvider, string> = {
  openai: 'sk-platform-openai-0001',
  anthropic: 'sk-ant-platform-0001',
  groq: 'gsk_platform_0001',
  mistral: 'mistral-platform-0001',
};

/** The operator price the Mistral tests configure (the seed prices no Mistral LLM). */
export const MISTRAL_PRICING = { llm: { 'mistral:mistral-small-latest': { input: 1, output: 3 } } };

export interface LlmStack {
  tg: TestTollgate;
  up: Record<LlmProvider, Upstream>;
  /** Usage after every request in flight has settled. */
  settledUsage(key?: string): Promise<any>;
}

type Tap = { teardown(fn: () => unknown): void };

export interface StackOptions {
  tier?: string;
  /** Merged over the generated config (providers are merged per id). */
  config?: Record<string, unknown>;
  /** Per-provider request handler; return true when it answered. */
  override?: Partial<Record<LlmProvider, (req: RecordedRequest, res: ServerResponse) => boolean | Promise<boolean>>>;
  /** The pipeline's hooks (e.g. `settled`, to count settlements). */
  events?: ProxyEvents;
}

export async function startLlmStack(t: Tap, o: StackOptions = {}): Promise<LlmStack> {
  const ids: LlmProvider[] = ['openai', 'anthropic', 'groq', 'mistral'];
  const up = {} as Record<LlmProvider, Upstream>;
  for (const id of ids) up[id] = await startLlmUpstream(id, o.override?.[id]);
  const providers: Record<string, unknown> = {};
  for (const id of ids) providers[id] = { baseUrl: up[id].url, apiKey: PLATFORM_KEYS[id] };
  const extra = { ...(o.config ?? {}) };
  if (extra.providers) {
    for (const [id, v] of Object.entries(extra.providers as Record<string, object>)) providers[id] = { ...(providers[id] as object), ...v };
    delete extra.providers;
  }
  const tg = await startTollgate({ pricing: MISTRAL_PRICING, ...extra, providers }, { tier: o.tier ?? 'starter', ...(o.events ? { events: o.events } : {}) });
  t.teardown(async () => {
    await tg.close();
    for (const id of ids) await up[id].close();
  });
  return {
    tg,
    up,
    async settledUsage(key) {
      await tg.app.pipeline.idle(5_000);
      return tg.usage(key);
    },
  };
}

export function openaiClient(tg: TestTollgate, o: { apiKey?: string; headers?: Record<string, string>; timeout?: number } = {}): OpenAI {
  return new OpenAI({ apiKey: o.apiKey ?? TEST_KEY, baseURL: `${tg.base('openai')}/v1`, maxRetries: 0, defaultHeaders: o.headers ?? {}, timeout: o.timeout ?? 10_000 });
}

/** Imported on demand: the Anthropic SDK takes about a second to load under tap's hooks. */
export async function anthropicClient(tg: TestTollgate, o: { apiKey?: string; headers?: Record<string, string> } = {}): Promise<Anthropic> {
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  return new Anthropic({ apiKey: o.apiKey ?? TEST_KEY, baseURL: tg.base('anthropic'), maxRetries: 0, defaultHeaders: o.headers ?? {}, timeout: 10_000 });
}

export function groqClient(tg: TestTollgate, o: { apiKey?: string } = {}): Groq {
  return new Groq({ apiKey: o.apiKey ?? TEST_KEY, baseURL: tg.base('groq'), maxRetries: 0, timeout: 10_000 });
}

/** The Mistral SDK's chat calls, unwrapped: they resolve with the answer or throw its error. */
export interface MistralChat {
  complete(req: ChatCompletionRequest, options?: MistralRequestOptions): Promise<ChatCompletionResponse>;
  stream(req: ChatCompletionStreamRequest, options?: MistralRequestOptions): Promise<AsyncIterable<CompletionEvent>>;
}

/**
 * The official Mistral SDK through its standalone functions (`MistralCore` + `funcs/chat*`, the
 * same code the `Mistral` class calls): the class pulls in all 1,200 of the SDK's modules,
 * which takes seconds, so it is loaded on demand and only the chat functions.
 */
export async function mistralClient(tg: TestTollgate, o: { apiKey?: string } = {}): Promise<MistralChat> {
  const [{ MistralCore }, { chatComplete }, { chatStream }] = await Promise.all([
    import('@mistralai/mistralai/core'),
    import('@mistralai/mistralai/funcs/chatComplete'),
    import('@mistralai/mistralai/funcs/chatStream'),
  ]);
  const core = new MistralCore({ apiKey: o.apiKey ?? TEST_KEY, serverURL: tg.base('mistral'), retryConfig: { strategy: 'none' }, timeoutMs: 10_000 });
  const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T => {
    if (!r.ok) throw r.error;
    return r.value;
  };
  return {
    complete: async (req, options) => unwrap(await chatComplete(core, req, options)),
    stream: async (req, options) => unwrap(await chatStream(core, req, options)),
  };
}

/** Raw JSON POST through tollgate (for byte-exact and error-shape checks). */
export async function postJson(url: string, payload: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...headers }, body: payload });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export interface TollgateProcess {
  proxyUrl: string;
  adminUrl: string;
  /** Every log line the process wrote (pino JSON). */
  logs: string[];
  stop(): Promise<void>;
}

/**
 * A second tollgate as a real process (`tollgate serve --config <tmp yaml>`, ports chosen by the
 * OS), started by the ops helper; info logging and a 2 s shutdown grace.
 */
export async function startTollgateProcess(config: Record<string, unknown>): Promise<TollgateProcess> {
  const p = await startOpsProcess({ ...config, logging: { level: 'info' }, shutdown: { graceMs: 2_000 } });
  return {
    proxyUrl: p.proxyUrl,
    adminUrl: p.adminUrl,
    logs: p.logs,
    async stop() {
      await p.stop('SIGTERM', 5_000);
    },
  };
}
