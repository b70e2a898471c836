// ElevenLabs TTS `/v1/text-to-speech/{voice_id}/multi-stream-input`: code points of every `text`
// but each context's opening " ", at ElevenLabs' TTS row, cut to the code point. Same meter as
// stream-input (elevenlabs-stream-input.ts); here a context opens with `{"text":" ", context_id,
// xi_api_key?}` (the key may come in each context's first message: stripped from every message).
// `{context_id, close_context}`, `{close_socket}` and the `{"text":"", context_id}` keep-alive
// are free. https://elevenlabs.io/docs/api-reference/text-to-speech/v-1-text-to-speech-voice-id-multi-stream-input

import { elevenlabsFirstMessageKey, elevenlabsTextMeter } from './elevenlabs-stream-input.js';
import type { RealtimeEndpoint, SessionMeter } from '../types.js';

/** Contexts remembered per socket (ElevenLabs closes a socket past 5 open ones). */
const MAX_CONTEXTS = 1024;

export const elevenlabsMultiStreamInput: RealtimeEndpoint = {
  provider: 'elevenlabs',
  path: /^\/v1\/text-to-speech\/([^/]+)\/multi-stream-input$/,
  providerIdleMs: 180_000,
  firstMessageKey: elevenlabsFirstMessageKey,
  open(ctx): SessionMeter {
    // A context's first text message is its opening; past MAX_CONTEXTS every " " bills (one char).
    const opened = new Set<string>();
    return elevenlabsTextMeter(ctx, (msg) => {
      const id = typeof msg.context_id === 'string' ? msg.context_id : '';
      if (opened.has(id) || opened.size >= MAX_CONTEXTS) return false;
      opened.add(id);
      return true;
    });
  },
};
