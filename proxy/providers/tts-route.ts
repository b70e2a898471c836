// A text-to-speech route with a JSON body: the adapter reads the request, meters/tts.ts bills it.

import { ttsPlan, type TtsRequest } from '../meters/tts.js';
import { jsonObject } from './openai-compatible.js';
import type { RouteContext, RouteSpec } from './types.js';

/** `POST path`, JSON object body; `read` returns the text the provider synthesizes, its model and report. */
export function jsonTtsRoute(path: string | RegExp, read: (ctx: RouteContext, obj: Record<string, unknown>) => TtsRequest): RouteSpec {
  return {
    method: 'POST',
    path,
    body: 'json',
    modality: 'tts',
    plan: (ctx, body) => ttsPlan(ctx, read(ctx, jsonObject(ctx, body))),
  };
}
