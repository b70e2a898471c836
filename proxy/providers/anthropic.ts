// Anthropic Messages API. Usage: JSON `usage`; streams: `message_start` carries input and cache
// tokens, each `message_delta` carries cumulative usage (output_tokens, possibly input again):
// the last one wins, `message_start` fills what it leaves out.
// https://docs.anthropic.com/en/docs/build-with-claude/streaming
// Cache tokens are separate from input_tokens here (unlike OpenAI); they bill at the input rate
// unless a cache rate is configured (pricing.llmCost does that).

import type { LlmUsage } from '../../pricing/types.js';
import { countDeltaText, isEventStream, jsonUsageMeter, parseData, sseUsageMeter, textFields } from '../meters/llm.js';
import { freeRoute, llmPlanBasis } from './openai-compatible.js';
import type { MeterPlan, ProviderAdapter } from './types.js';

/**
 * An image costs about (width × height) / 750 tokens and is scaled down past ~1,600 tokens
 * (https://docs.anthropic.com/en/docs/build-with-claude/vision#evaluate-image-size); tools add
 * a tool-use system prompt of at most 346 tokens (Claude 4 models, tool_choice auto or none;
 * https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/overview#pricing).
 */
const INPUT_BOUNDS = { imageTokens: 1_600, toolTokens: 346 };

/** Text of a content_block_delta: text_delta, thinking_delta, input_json_delta. */
const DELTA_TEXT = textFields('text', 'thinking', 'partial_json');

const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);

function fromAnthropicUsage(u: unknown, base?: LlmUsage): LlmUsage | undefined {
  if (!u || typeof u !== 'object') return base;
  const o = u as Record<string, unknown>;
  const input = n(o.input_tokens) ?? base?.inputTokens;
  const output = n(o.output_tokens) ?? base?.outputTokens;
  if (input === undefined && output === undefined) return base;
  return {
    inputTokens: input ?? 0,
    outputTokens: output ?? 0,
    cacheWriteTokens: n(o.cache_creation_input_tokens) ?? base?.cacheWriteTokens ?? 0,
    cacheReadTokens: n(o.cache_read_input_tokens) ?? base?.cacheReadTokens ?? 0,
  };
}

export const anthropic: ProviderAdapter = {
  id: 'anthropic',
  modality: 'llm',
  defaultBaseUrl: 'https://api.anthropic.com',
  // The SDK sends apiKey as x-api-key and authToken as Authorization: Bearer.
  clientAuth: ['x-api-key', 'bearer'],
  // Console keys are `sk-ant-api03-` + 95 characters (108 in all).
  byokKeyLength: { min: 40, max: 256 },
  setUpstreamKey(headers, key) {
    headers['x-api-key'] = key;
  },
  errorBody(code, message) {
    // The SDK's error shape: {type:"error", error:{type, message}}; our stable code is the type.
    return { type: 'error', error: { type: code, message } };
  },
  routes: [
    {
      method: 'POST',
      path: '/v1/messages',
      body: 'json',
      plan(ctx, body): MeterPlan {
        // max_tokens is required by the API: a request without it is refused by Anthropic (the
        // reservation assumes the configured default meanwhile), so nothing is written in.
        const { model, meterOpts, estimateMicro, streamed, floorMicro } = llmPlanBasis(ctx, body, ['max_tokens'], 1, INPUT_BOUNDS);
        return {
          modality: 'llm',
          model,
          estimateMicro,
          streamed,
          floorMicro,
          response(head) {
            if (!isEventStream(head)) return jsonUsageMeter(meterOpts, (u) => fromAnthropicUsage(u));
            return sseUsageMeter(
              meterOpts,
              (ev, state) => {
                switch (ev.event) {
                  case 'content_block_delta':
                    // Characters of text/thinking/JSON deltas, for the estimate if the stream is cut.
                    countDeltaText(state, ev.data, DELTA_TEXT);
                    return;
                  case 'message_start': {
                    const msg = parseData(ev, state)?.message as Record<string, unknown> | undefined;
                    const u = fromAnthropicUsage(msg?.usage);
                    if (u) state.earlyInput = { ...u, outputTokens: 0 };
                    if (typeof msg?.model === 'string') state.model = msg.model;
                    return;
                  }
                  case 'message_delta': {
                    const d = parseData(ev, state);
                    const u = fromAnthropicUsage(d?.usage, state.usage ?? state.earlyInput);
                    if (u) state.usage = u;
                    return;
                  }
                  default:
                    return;
                }
              },
              false,
            );
          },
        };
      },
    },
    freeRoute('POST', '/v1/messages/count_tokens'),
    freeRoute('GET', '/v1/models'),
    freeRoute('GET', /^\/v1\/models\/[^/]+$/),
  ],
};
