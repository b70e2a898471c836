// Every provider adapter tollgate serves, one file each.

import type { ProviderAdapter } from './types.js';
import { anthropic } from './anthropic.js';
import { groq } from './groq.js';
import { mistral } from './mistral.js';
import { openai } from './openai.js';

export const ADAPTERS: readonly ProviderAdapter[] = [
  openai,
  anthropic,
  groq,
  mistral,
];
