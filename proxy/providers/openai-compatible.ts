// Factory for OpenAI-compatible APIs (OpenAI, Groq, Mistral, self-hosted servers): chat
// completions and Responses routes with their usage meters, bearer auth, OpenAI error shape.
// https://platform.openai.com/docs/api-reference/chat/create

import type { ErrorCode } from '../errors.js';
import {
  countDeltaText,
  fromChatUsage,
  fromResponsesUsage,
  isEventStream,
  jsonUsageMeter,
  measureInput,
  parseData,
  sseUsageMeter,
  textFields,
  type InputBounds,
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

/** The first of `fields` the client set to a positive integer (max_completion_tokens, ...), if any. */
export function clientMaxTokens(obj: Record<string, unknown>, fields: readonly string[]): number | undefined {
  for (const f of fields) {
    const v = obj[f];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

export interface LlmPlanBasis {
  obj: Record<string, unknown>;
  model: string;
  meterOpts: LlmMeterOptions;
  /** Reservation: the input bound plus the output limit of every choice, at the model's rate. */
  estimateMicro: number;
  /** `stream: true`: the answer is an event stream (MeterPlan.streamed). */
  streamed: boolean;
  /** The output limit of one choice the reservation assumed: the client's, else the configured default. */
  maxTokens: number;
  /** The client set the limit itself (then nothing is written into its request). */
  clientBound: boolean;
  /** The input estimate alone: what an expired reservation charges (MeterPlan.floorMicro). */
  floorMicro: number;
}

/** Image and tool maxima of providers that document none (OpenAI's, the largest of its own). */
export const DEFAULT_INPUT_BOUNDS: InputBounds = { imageTokens: 3_779, toolTokens: 0 };

/**
 * The start every LLM plan shares: the JSON body, its model and rate (or 400 unpriced_model),
 * the input measured (an upper bound for the reservation, an estimate for cut streams), and
 * the reservation for `choices` answers of up to the output limit.
 */
export function llmPlanBasis(
  ctx: RouteContext,
  body: RequestBody,
  maxTokenFields: readonly string[],
  choices = 1,
  bounds: InputBounds = DEFAULT_INPUT_BOUNDS,
): LlmPlanBasis {
  const obj = jsonObject(ctx, body);
  const model = requiredModel(ctx, obj);
  const rate = ctx.llmRate(model);
  const input = measureInput(obj, bounds);
  const client = clientMaxTokens(obj, maxTokenFields);
  const maxTokens = client ?? ctx.limits.llmDefaultMaxTokens;
  return {
    obj,
    model,
    meterOpts: { pricing: ctx.pricing, rate, inputEstimate: input.estimate },
    estimateMicro: ctx.pricing.llmCost(rate, { inputTokens: input.bound, outputTokens: maxTokens * choices }),
    streamed: obj.stream === true,
    maxTokens,
    clientBound: client !== undefined,
    floorMicro: ctx.pricing.llmCost(rate, { inputTokens: input.estimate, outputTokens: 0 }),
  };
}

/** `raw` (a JSON object) with `member` (`"k":v`) added before its final `}`, every other byte kept. */
function appendMember(raw: Buffer, member: string): Buffer {
  let end = raw.length - 1;
  while (end >= 0 && raw[end] !== 0x7d) end--;
  return Buffer.concat([raw.subarray(0, end), Buffer.from(`,${member}}`)]);
}

/**
 * Adds `"stream_options":{"include_usage":true}` without re-serialising the client's JSON when
 * it has no `stream_options` (the common case): the bytes are spliced before the final `}`.
 */
export function withIncludeUsage(raw: Buffer, obj: Record<string, unknown>): Buffer {
  if (obj.stream_options === undefined) return appendMember(raw, '"stream_options":{"include_usage":true}');
  const so = obj.stream_options && typeof obj.stream_options === 'object' ? obj.stream_options : {};
  return Buffer.from(JSON.stringify({ ...obj, stream_options: { ...so, include_usage: true } }));
}

/**
 * The request to send a capped account (MeterPlan.boundedBody): `base` (the client's bytes, or
 * the plan's) with the output limit the reservation assumed written in as `field`, so the
 * provider cannot write past it. Appended when the client named no limit field (the common
 * case: every other byte kept); re-serialised when it named one with no usable value (null).
 */
export function withOutputBound(base: Buffer, obj: Record<string, unknown>, field: string, maxTokens: number, fields: readonly string[]): Buffer {
  if (!fields.some((f) => f in obj)) return appendMember(base, `"${field}":${maxTokens}`);
  const o = JSON.parse(base.toString('utf8')) as Record<string, unknown>;
  for (const f of fields) delete o[f];
  o[field] = maxTokens;
  return Buffer.from(JSON.stringify(o));
}

/** Where chat completions name the output limit, in the order they are read. */
const CHAT_MAX_FIELDS = ['max_completion_tokens', 'max_tokens'] as const;
const RESPONSES_MAX_FIELDS = ['max_output_tokens'] as const;

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
   * The field a capped account's request gets its output limit in when the client set none:
   * `max_completion_tokens` where the API has it (OpenAI deprecates `max_tokens`, which its
   * reasoning models refuse), `max_tokens` where it is the only one (Mistral).
   */
  boundField: string;
  /** Image and tool maxima of this provider's API. */
  inputBounds?: InputBounds;
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
    modality: 'llm',
    plan(ctx, body): MeterPlan {
      // `n` choices each generate up to the limit: reserve for all of them, or one request could
      // take a hard-capped account far past its limit.
      const n = body.kind === 'json' ? (body.value as { n?: unknown } | null)?.n : undefined;
      const choices = typeof n === 'number' && Number.isInteger(n) && n > 1 ? n : 1;
      const { obj, model, meterOpts, estimateMicro, maxTokens, clientBound, streamed: stream, floorMicro } = llmPlanBasis(ctx, body, CHAT_MAX_FIELDS, choices, opts.inputBounds);
      const clientAskedUsage = (obj.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      const inject = stream && opts.injectStreamUsage && !clientAskedUsage && body.kind === 'json';
      const plan: MeterPlan = {
        modality: 'llm',
        model,
        estimateMicro,
        streamed: stream,
        floorMicro,
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
      // `n` choices: the limit applies to each, as the reservation assumed.
      if (!clientBound && body.kind === 'json') {
        const raw = body.raw;
        plan.boundedBody = () => withOutputBound(plan.body ?? raw, obj, opts.boundField, maxTokens, CHAT_MAX_FIELDS);
      }
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
    modality: 'llm',
    plan(ctx, body): MeterPlan {
      const { obj, model, meterOpts, estimateMicro, maxTokens, clientBound, streamed, floorMicro } = llmPlanBasis(ctx, body, RESPONSES_MAX_FIELDS);
      const plan: MeterPlan = {
        modality: 'llm',
        model,
        estimateMicro,
        streamed,
        floorMicro,
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
      if (!clientBound && body.kind === 'json') {
        const raw = body.raw;
        plan.boundedBody = () => withOutputBound(raw, obj, 'max_output_tokens', maxTokens, RESPONSES_MAX_FIELDS);
      }
      return plan;
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
  /** See ChatRouteOptions; default `max_tokens`, the field every OpenAI-compatible server reads. */
  boundField?: string;
  inputBounds?: InputBounds;
  responses?: boolean;
  clientAuth?: readonly ClientAuth[];
  /** More routes (audio, …) added by the provider's own file. */
  extraRoutes?: readonly RouteSpec[];
}

export function openAiCompatible(o: OpenAiCompatibleOptions): ProviderAdapter {
  const routes: RouteSpec[] = [
    chatCompletionsRoute({
      path: `${o.prefix}/chat/completions`,
      injectStreamUsage: o.injectStreamUsage,
      chunkUsage: o.chunkUsage,
      boundField: o.boundField ?? 'max_tokens',
      ...(o.inputBounds ? { inputBounds: o.inputBounds } : {}),
    }),
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
