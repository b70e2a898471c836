// Every provider adapter tollgate serves, one file each.

import type { ProviderAdapter } from './types.js';
import { anthropic } from './anthropic.js';
import { groq } from './groq.js';
import { mistral } from './mistral.js';
import { openai } from './openai.js';
import { resemble } from './resemble.js';
import { inworld } from './inworld.js';
import { qwen } from './qwen.js';
import { kokoro } from './kokoro.js';
import { chatterbox } from './chatterbox.js';
import { pockettts } from './pockettts.js';
import { rag } from './rag.js';
import { whisper } from './whisper.js';
import { elevenlabs } from './elevenlabs.js';
import { deepgram } from './deepgram.js';
import { cartesia } from './cartesia.js';
import { fishaudio } from './fishaudio.js';

export const ADAPTERS: readonly ProviderAdapter[] = [
  openai,
  anthropic,
  groq,
  mistral,
  resemble,
  inworld,
  qwen,
  kokoro,
  chatterbox,
  pockettts,
  rag,
  whisper,
  elevenlabs,
  deepgram,
  cartesia,
  fishaudio,
];
