// Test helper for the chaos soak: the accounts and the seeded, reproducible list of requests
// (kind, fault, account, text, tokens wanted). The same seed gives the same requests.

export interface SoakAccount {
  id: string;
  tier: 'free' | 'starter' | 'scale';
  /** `both`: alternates between the two processes (the crash window can hold it); `b`: only the process never killed. */
  via: 'both' | 'b';
  overageCapCredits?: number;
  /** Its LLM requests go upstream on the customer's own key. */
  byok?: boolean;
  weight: number;
}

/** The soak config's `tiers.scale.includedCredits`: with a 1,000-credit spend limit, `capped` stops at 3,000. */
export const CAPPED_INCLUDED = 2_000;
export const CAPPED_LIMIT = 1_000;
export const FREE_LIMIT = 2_500;

export const SOAK_ACCOUNTS: readonly SoakAccount[] = [
  { id: 'free1', tier: 'free', via: 'both', weight: 12 },
  { id: 'free2', tier: 'free', via: 'b', weight: 8 },
  { id: 'paid1', tier: 'starter', via: 'both', weight: 28 },
  { id: 'paid2', tier: 'starter', via: 'b', weight: 20 },
  { id: 'capped', tier: 'scale', via: 'both', overageCapCredits: CAPPED_LIMIT, weight: 16 },
  { id: 'byok', tier: 'starter', via: 'both', byok: true, weight: 16 },
];

export const keyOf = (account: string): string => `tg_soak_key_${account}_0000000000000000`;

export type Kind = 'openai-json' | 'openai-stream' | 'anthropic-json' | 'anthropic-stream' | 'tts' | 'stt' | 'kokoro-byok-header';
/**
 * Client side: `hold` leaves once the provider has the request (before the headers), `early`
 * right after sending, `big` after the first body chunk, `wait-at-k` after k streamed deltas.
 * Provider side: `5xx`, `reset-before` (socket destroyed on arrival), `reset-at-k` (connection
 * closed after k deltas). See soak-providers.ts.
 */
export type Fault = 'none' | '5xx' | 'reset-before' | 'hold' | 'early' | 'big' | 'wait-at-k' | 'reset-at-k';

export interface SoakRequest {
  n: number;
  id: string;
  account: SoakAccount;
  kind: Kind;
  fault: Fault;
  byok: boolean;
  model?: string;
  text: string;
  /** Output tokens the model wants to write; `maxTokens` caps it (undefined: the client set none). */
  out: number;
  maxTokens?: number;
  k: number;
  audioSeconds: number;
}

/** mulberry32: small, fast, good enough for a test's choices. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, table: ReadonlyArray<readonly [T, number]>): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of table) if ((x -= w) < 0) return v;
  return table[table.length - 1]![0];
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const WORDS = ['tollgate', 'meters', 'every', 'token', 'and', 'second', 'of', 'speech', 'é', 'naïve', 'café', '👋', 'the', 'provider', 'bill'];
const CJK = '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后';

function text(r: () => number, chars: number, cjk: boolean): string {
  let s = '';
  if (cjk) while ([...s].length < chars) s += CJK[int(r, 0, CJK.length - 1)];
  else while (s.length < chars) s += `${WORDS[int(r, 0, WORDS.length - 1)]} `;
  return s.trim() || 'hi';
}

const JSON_FAULTS = [['none', 66], ['5xx', 6], ['reset-before', 5], ['hold', 8], ['big', 7], ['early', 8]] as const;
const STREAM_FAULTS = [['none', 68], ['5xx', 6], ['reset-before', 5], ['wait-at-k', 13], ['reset-at-k', 8]] as const;
const TTS_FAULTS = [['none', 70], ['5xx', 6], ['reset-before', 5], ['hold', 7], ['big', 6], ['early', 6]] as const;
const BYOK_FAULTS = [['none', 80], ['5xx', 10], ['reset-before', 10]] as const;

export function soakPlan(seed: number, count: number): SoakRequest[] {
  const r = rng(seed);
  const accounts = SOAK_ACCOUNTS.map((a) => [a, a.weight] as const);
  const out: SoakRequest[] = [];
  for (let n = 0; n < count; n++) {
    const account = pick(r, accounts);
    const free = account.tier === 'free';
    const kinds: Array<readonly [Kind, number]> = account.byok
      ? [['openai-json', 30], ['openai-stream', 25], ['anthropic-json', 20], ['anthropic-stream', 25]]
      : [['openai-json', 22], ['openai-stream', 20], ['anthropic-json', 13], ['anthropic-stream', 15], ['tts', 14], ['stt', 9], ['kokoro-byok-header', account.via === 'b' || free ? 7 : 0]];
    const kind = pick(r, kinds);
    const stream = kind.endsWith('-stream');
    const fault: Fault = account.byok ? pick(r, BYOK_FAULTS) : kind === 'stt' ? pick(r, [['none', 92], ['5xx', 8]] as const) : kind === 'kokoro-byok-header' ? 'none' : pick(r, stream ? STREAM_FAULTS : kind === 'tts' ? TTS_FAULTS : JSON_FAULTS);
    const llm = kind.startsWith('openai-') || kind.startsWith('anthropic-');
    const wanted = int(r, 8, free ? 420 : 260);
    // Free: no max_tokens on OpenAI (the model may write past the reserved default); others mostly set one, sometimes below what the model wants.
    let maxTokens: number | undefined;
    if (kind.startsWith('anthropic-')) maxTokens = r() < 0.8 ? wanted + int(r, 0, 64) : int(r, 4, wanted);
    else if (!free) maxTokens = r() < 0.7 ? wanted + int(r, 0, 64) : r() < 0.5 ? int(r, 4, wanted) : undefined;
    const cjk = free && llm && r() < 0.25;
    const model = kind.startsWith('openai-') ? (r() < 0.5 ? 'gpt-4.1-mini' : 'gpt-4.1') : kind.startsWith('anthropic-') ? (r() < 0.6 ? 'claude-3-5-haiku' : 'claude-sonnet-4') : undefined;
    const req: SoakRequest = {
      n,
      id: `soak.${account.id}.${n}`,
      account,
      kind,
      fault,
      byok: Boolean(account.byok) || kind === 'kokoro-byok-header',
      text: text(r, llm ? int(r, 10, cjk ? 1_200 : 600) : int(r, 20, free ? 1_500 : 300), cjk),
      out: wanted,
      k: 0,
      audioSeconds: int(r, 1, 4),
    };
    if (model) req.model = model;
    if (maxTokens !== undefined) req.maxTokens = maxTokens;
    const cap = maxTokens ?? wanted;
    if (fault === 'wait-at-k' || fault === 'reset-at-k') req.k = Math.max(1, Math.min(int(r, 1, 24), Math.min(wanted, cap) - 1));
    if ((fault === 'wait-at-k' || fault === 'reset-at-k') && Math.min(wanted, cap) < 2) req.fault = 'none';
    out.push(req);
  }
  return out;
}
