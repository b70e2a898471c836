// Customer API keys tollgate issues: `tg_` + 32 base62 characters (190 bits), unbiased.

import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function generateApiKey(): string {
  let out = 'tg_';
  while (out.length < 35) {
    for (const b of randomBytes(48)) {
      // 248 = 4 × 62: rejecting larger bytes keeps every character equally likely.
      if (b < 248 && out.length < 35) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export const API_KEY_PATTERN = /^tg_[0-9A-Za-z]{32}$/;
