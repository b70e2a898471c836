// Qwen TTS on Alibaba Cloud Model Studio (DashScope): `POST /api/v1/services/aigc/multimodal-
// generation/generation` with `{model, input:{text, voice, language_type}}` — the path the
// dashscope SDK builds for MultiModalConversation.call(text=…), verified against
// dashscope-sdk-python. The answer is JSON `{output:{audio:{url,…}}, usage:{characters}}`; with
// the `X-DashScope-SSE: enable` header it is SSE, each event carrying base64 audio and `usage`.
// https://www.alibabacloud.com/help/en/model-studio/qwen-tts
//
// Billing: code points of `input.text`, at the seed's "Qwen TTS" rate. DashScope's
// `usage.characters` counts each CJK character as 2 (its own price unit) and is recorded as
// `reported.chars`; the seed's rate is per 1,000 characters of text, the same unit as every
// other TTS row, and tollgate's count is known before forwarding. Older qwen-tts models report
// tokens instead (`usage.input_tokens`/`output_tokens`): recorded the same way.
// The same path serves Qwen's multimodal chat models (`input.messages`): they have no price here.

import type { UsageUnits } from '../../ledger/types.js';
import type { ErrorCode } from '../errors.js';
import { count, eventJson, isEventStreamHead, jsonReport, requiredText, sseReport, type TtsReport } from '../meters/tts.js';
import { requiredModel, setBearer } from './openai-compatible.js';
import { jsonTtsRoute } from './tts-route.js';
import type { ProviderAdapter, UpstreamResponseHead } from './types.js';

function fromUsage(u: unknown): UsageUnits | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as Record<string, unknown>;
  const out: UsageUnits = {};
  const chars = count(o.characters);
  const input = count(o.input_tokens);
  const output = count(o.output_tokens);
  if (chars !== undefined) out.chars = chars;
  if (input !== undefined) out.inputTokens = input;
  if (output !== undefined) out.outputTokens = output;
  return Object.keys(out).length ? out : undefined;
}

function report(head: UpstreamResponseHead): TtsReport {
  if (!isEventStreamHead(head)) return jsonReport(['usage'], (f) => fromUsage(f.usage));
  // Every event repeats `usage`; the last one wins.
  let last: UsageUnits | undefined;
  return sseReport(
    (ev) => {
      if (!ev.data.includes('"usage"')) return;
      last = fromUsage(eventJson(ev)?.usage) ?? last;
    },
    () => last,
  );
}

export const qwen: ProviderAdapter = {
  id: 'qwen',
  modality: 'tts',
  defaultBaseUrl: 'https://dashscope-intl.aliyuncs.com',
  clientAuth: ['bearer'],
  setUpstreamKey: setBearer,
  routes: [
    jsonTtsRoute('/api/v1/services/aigc/multimodal-generation/generation', (ctx, obj) => {
      const model = requiredModel(ctx, obj);
      const input = obj.input && typeof obj.input === 'object' ? (obj.input as Record<string, unknown>) : {};
      if (typeof input.text !== 'string' && input.messages !== undefined) {
        ctx.fail('unpriced_model', `model "${model}" of qwen: tollgate prices only text-to-speech (input.text) on this path`);
      }
      return { text: requiredText(ctx, input.text, 'input.text'), model, report };
    }),
  ],
  // DashScope's error shape: `{code, message, request_id}`; the code is tollgate's.
  errorBody(code: ErrorCode, message: string) {
    return { code, message };
  },
};
