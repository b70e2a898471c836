// Factory for OpenAI-compatible APIs (OpenAI, Groq, Mistral, self-hosted servers): chat
// completions and Responses routes with their usage meters, bearer auth, OpenAI error shape.
// https://platform.openai.com/docs/api-reference/chat/create

import type { ErrorCode } from '../errors.js';
import {
  countDeltaText,
  estimateInputTokens,
  fromChatUsage,
  fromResponsesUsage,
  isEventStream,
  jsonUsageMeter,
  parseData,
  sseUsageMeter,
  textFields,
  type LlmMeterOptions,
} from '../meters/llm.js';
import type { ClientAuth, MeterPlan, ProviderAdapter, RequestBody, RouteContext, RouteSpec } from './types.js';

export function jsonObject(ctx: RouteContext, body: RequestBody): Record<string, unknown> {
  if (body.kind !== 'json' || !body.value || typeof body.value !== 'object' || Array.isArray(body.value)) {
    ctx.fail('invalid_request', 'the request body must be a JSON object');
  }
  return body.value as Record<string, unknown>;
}

export function requiredModel(ctx: RouteContext, obj: Record<string, unknown>): string {
  const model = obj.model;
  if (typeof model !== 'string' || model === '') ctx.fail('invalid_request', '`model` is required');
  return model;
}

/** max_completion_tokens / max_tokens / max_output_tokens, else the configured default. */
export function maxOutputTokens(ctx: RouteContext, obj: Record<string, unknown>, ...fields: string[]): number {
  for (const f of fields) {
    const v = obj[f];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return ctx.limits.llmDefaultMaxTokens;
}

export interface LlmPlanBasis {
  obj: Record<string, unknown>;
  model: string;
  meterOpts: LlmMeterOptions;
  /** Reservation: the input estimate plus the output limit, priced at the model's rate. */
  estimateMicro: number;
  /** `stream: true`: the answer is an event stream (MeterPlan.streamed). */
  streamed: boolean;
}

/**
 * The start every LLM plan shares: the JSON body, its model and rate (or 400 unpriced_model),
 * the input estimate, and the reservation for `choices` answers of up to the output limit.
 */
export function llmPlanBasis(ctx: RouteContext, body: RequestBody, maxTokenFields: readonly string[], choices = 1): LlmPlanBasis {
  const obj = jsonObject(ctx, body);
  const model = requiredModel(ctx, obj);
  const rate = ctx.llmRate(model);
  const inputEstimate = estimateInputTokens(obj);
  const maxTokens = maxOutputTokens(ctx, obj, ...maxTokenFields) * choices;
  return {
    obj,
    model,
    meterOpts: { pricing: ctx.pricing, rate, inputEstimate },
    estimateMicro: ctx.pricing.llmCost(rate, { inputTokens: inputEstimate, outputTokens: maxTokens }),
    streamed: obj.stream === true,
  };
}

/**
 * Adds `"stream_options":{"include_usage":true}` without re-serialising the client's JSON when
 * it has no `stream_options` (the common case): the bytes are spliced before the final `}`.
 */
export function withIncludeUsage(raw: Buffer, obj: Record<string, unknown>): Buffer {
  if (obj.stream_options === undefined) {
    let end = raw.length - 1;
    while (end >= 0 && raw[end] !== 0x7d) end--;
    return Buffer.concat([raw.subarray(0, end), Buffer.from(',"stream_options":{"include_usage":true}}')]);
  }
  const so = obj.stream_options && typeof obj.stream_options === 'object' ? obj.stream_options : {};
  return Buffer.from(JSON.stringify({ ...obj, stream_options: { ...so, include_usage: true } }));
}

/** Text a chat-completion chunk streams: message content, refusals, tool-call arguments, reasoning. */
const CHAT_TEXT = textFields('content', 'refusal', 'arguments', 'reasoning', 'reasoning_content');
/** `"usage":{` at any depth (OpenAI's top-level usage, Groq's x_groq.usage), not `"usage":null`. */
const HAS_USAGE = /"usage":\s*\{/;
/** The text of a Responses API `*.delta` event. */
const RESPONSES_TEXT = textFields('delta');
const RESPONSES_TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export interface ChatRouteOptions {
  path: string;
  /**
   * Ask for the usage chunk when the client did not (OpenAI sends usage in streams only with
   * stream_options.include_usage), and hide that extra chunk from the client.
   */
  injectStreamUsage: boolean;
  /** Where a stream chunk carries usage besides `usage` (Groq: `x_groq.usage`). */
  chunkUsage?: (chunk: Record<string, unknown>) => unknown;
}

export function chatCompletionsRoute(opts: ChatRouteOptions): RouteSpec {
  return {
    method: 'POST',
    path: opts.path,
    body: 'json',
    plan(ctx, body): MeterPlan {
      // `n` choices each generate up to the limit: reserve for all of them, or one request could
      // take a hard-capped account far past its limit.
      const n = body.kind === 'json' ? (body.value as { n?: unknown } | null)?.n : undefined;
      const choices = typeof n === 'number' && Number.isInteger(n) && n > 1 ? n : 1;
      const { obj, model, meterOpts, estimateMicro, streamed: stream } = llmPlanBasis(ctx, body, ['max_completion_tokens', 'max_tokens'], choices);
      const clientAskedUsage = (obj.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      const inject = stream && opts.injectStreamUsage && !clientAskedUsage && body.kind === 'json';
      const plan: MeterPlan = {
        modality: 'llm',
        model,
        estimateMicro,
        streamed: stream,
        response(head) {
          if (!isEventStream(head)) return jsonUsageMeter(meterOpts, fromChatUsage);
          return sseUsageMeter(
            meterOpts,
            (ev, state) => {
              if (ev.data === '' || ev.data === '[DONE]') return;
              // Content deltas are counted, not parsed; only events that can carry usage are parsed.
              countDeltaText(state, ev.data, CHAT_TEXT);
              if (!HAS_USAGE.test(ev.data)) return;
              const chunk = parseData(ev, state);
              if (!chunk) return;
              const usage = fromChatUsage(chunk.usage) ?? fromChatUsage(opts.chunkUsage?.(chunk));
              if (!usage) return;
              state.usage = usage;
              if (typeof chunk.model === 'string') state.model = chunk.model;
              const choices = chunk.choices;
              if (inject && Array.isArray(choices) && choices.length === 0) return false;
            },
            inject,
          );
        },
      };
      if (inject && body.kind === 'json') plan.body = withIncludeUsage(body.raw, obj);
      return plan;
    },
  };
}

/** OpenAI Responses API: usage in the body, or in the terminal SSE event's `response.usage`. */
export function responsesRoute(path: string): RouteSpec {
  return {
    method: 'POST',
    path,
    body: 'json',
    plan(ctx, body): MeterPlan {
      const { model, meterOpts, estimateMicro, streamed } = llmPlanBasis(ctx, body, ['max_output_tokens']);
      return {
        modality: 'llm',
        model,
        estimateMicro,
        streamed,
        response(head) {
          if (!isEventStream(head)) return jsonUsageMeter(meterOpts, fromResponsesUsage);
          return sseUsageMeter(
            meterOpts,
            (ev, state) => {
              // OpenAI names every event (`event: response.output_text.delta`); the name is also
              // the data's leading `type`, which compatible servers that omit `event:` still send.
              const type = ev.event || (/^\{\s*"type"\s*:\s*"([^"]+)"/.exec(ev.data)?.[1] ?? '');
              if (type.endsWith('.delta')) {
                // Audio deltas are base64, not text: one delta each, no characters.
                if (type === 'response.audio.delta') state.deltas++;
                else countDeltaText(state, ev.data, RESPONSES_TEXT);
                return;
              }
              if (!RESPONSES_TERMINAL.has(type)) return;
              const data = parseData(ev, state);
              const response = data?.response as Record<string, unknown> | undefined;
              const usage = fromResponsesUsage(response?.usage);
              if (usage) state.usage = usage;
              if (typeof response?.model === 'string') state.model = response.model;
            },
            false,
          );
        },
      };
    },
  };
}

export function freeRoute(method: string, path: string | RegExp): RouteSpec {
  return { method, path, free: true, body: 'none' };
}

export function openAiErrorBody(code: ErrorCode, message: string, type: string): unknown {
  return { error: { message, type, code, param: null } };
}

export function setBearer(headers: Record<string, string>, key: string): void {
  headers.authorization = `Bearer ${key}`;
}

export interface OpenAiCompatibleOptions {
  id: string;
  defaultBaseUrl?: string;
  keyOptional?: boolean;
  /** Path prefix of the API: '/v1' (OpenAI, Mistral) or '/openai/v1' (Groq). */
  prefix: string;
  injectStreamUsage: boolean;
  chunkUsage?: ChatRouteOptions['chunkUsage'];
  responses?: boolean;
  clientAuth?: readonly ClientAuth[];
  /** More routes (audio, …) added by the provider's own file. */
  extraRoutes?: readonly RouteSpec[];
}

export function openAiCompatible(o: OpenAiCompatibleOptions): ProviderAdapter {
  const routes: RouteSpec[] = [
    chatCompletionsRoute({ path: `${o.prefix}/chat/completions`, injectStreamUsage: o.injectStreamUsage, chunkUsage: o.chunkUsage }),
    freeRoute('GET', `${o.prefix}/models`),
    freeRoute('GET', new RegExp(`^${o.prefix.replace(/\//g, '\\/')}\\/models\\/[^/]+$`)),
  ];
  if (o.responses) routes.push(responsesRoute(`${o.prefix}/responses`));
  if (o.extraRoutes) routes.push(...o.extraRoutes);
  const adapter: ProviderAdapter = {
    id: o.id,
    modality: 'llm',
    clientAuth: o.clientAuth ?? ['bearer'],
    setUpstreamKey: setBearer,
    routes,
    errorBody: openAiErrorBody,
  };
  if (o.defaultBaseUrl) adapter.defaultBaseUrl = o.defaultBaseUrl;
  if (o.keyOptional) adapter.keyOptional = true;
  return adapter;
}
