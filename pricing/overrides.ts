// The operator's `pricing:` section merged over the seed table: every rate checked and turned into µcr.

import { creditsToMicro } from './credits.js';
import { normalizeModel } from './normalize.js';
import { SEED_ALIASES, SEED_PRICES } from './table.js';
import { PROVIDER_IDS, type LlmRate } from './types.js';

/** The merged price table the factory answers from. Keys are lower case and canonical. */
export interface RateBook {
  tts: ReadonlyMap<string, number>;
  stt: ReadonlyMap<string, number>;
  llm: ReadonlyMap<string, Readonly<LlmRate>>;
  aliases: ReadonlyMap<string, string>;
  rag: number;
}

const SECTIONS = new Set(['tts', 'stt', 'llm', 'aliases', 'rag']);
const LLM_FIELDS = new Set(['input', 'output', 'cacheRead', 'cacheWrite', 'audioInput', 'audioOutput']);

/** Human-readable problems in a `pricing:` config section; empty when it is valid. */
export function validatePricingOverrides(overrides: unknown): string[] {
  return compileRates(overrides).problems;
}

/**
 * The seed table with `overrides` applied, and every problem found (all of them, so the
 * operator fixes the config in one go). Override keys are normalised like request models,
 * so `openai:gpt-4o-2024-08-06` prices what a request for that snapshot looks up.
 */
export function compileRates(overrides: unknown): { book: RateBook; problems: string[] } {
  const problems: string[] = [];
  const tts = new Map(Object.entries(SEED_PRICES.tts));
  const stt = new Map(Object.entries(SEED_PRICES.stt));
  const llm = new Map<string, Readonly<LlmRate>>(Object.entries(SEED_PRICES.llm));
  const aliases = new Map(Object.entries(SEED_ALIASES));
  let rag = SEED_PRICES.rag;
  const book = (): RateBook => ({ tts, stt, llm, aliases, rag });

  if (overrides === undefined || overrides === null) return { book: book(), problems };
  if (!isRecord(overrides)) return { book: book(), problems: ['pricing: must be a mapping'] };
  for (const key of Object.keys(overrides)) {
    if (!SECTIONS.has(key)) problems.push(`pricing.${key}: unknown section (expected tts, stt, llm, aliases or rag)`);
  }

  // Aliases first: the other sections' keys are normalised through them.
  for (const [key, target, path] of entries(overrides.aliases, 'pricing.aliases', problems)) {
    const parsed = parseKey(key, path, true, problems);
    if (parsed === undefined) continue;
    if (typeof target !== 'string' || target.trim() === '') {
      problems.push(`${path}: must be the canonical model name, a non-empty string`);
      continue;
    }
    aliases.set(`${parsed.provider}:${parsed.model}`, target.trim().toLowerCase());
  }

  for (const [section, rows] of [['tts', tts], ['stt', stt]] as const) {
    const seen = new Set<string>();
    for (const [key, credits, path] of entries(overrides[section], `pricing.${section}`, problems)) {
      const parsed = parseKey(key, path, false, problems);
      if (parsed === undefined) continue;
      const row = parsed.model === undefined
        ? parsed.provider
        : `${parsed.provider}:${normalizeModel(parsed.provider, parsed.model, aliases)}`;
      if (!unique(seen, row, path, problems)) continue;
      const rate = creditsToMicro(credits, path);
      if ('problem' in rate) problems.push(rate.problem);
      else rows.set(row, rate.micro);
    }
  }

  const seenLlm = new Set<string>();
  for (const [key, value, path] of entries(overrides.llm, 'pricing.llm', problems)) {
    const parsed = parseKey(key, path, true, problems);
    if (parsed?.model === undefined) continue;
    const row = `${parsed.provider}:${normalizeModel(parsed.provider, parsed.model, aliases)}`;
    if (!unique(seenLlm, row, path, problems)) continue;
    const rate = llmRate(value, path, problems);
    if (rate !== undefined) llm.set(row, rate);
  }

  if (overrides.rag !== undefined) {
    const rate = creditsToMicro(overrides.rag, 'pricing.rag');
    if ('problem' in rate) problems.push(rate.problem);
    else rag = rate.micro;
  }
  return { book: book(), problems };
}

/** `{input, output, cacheRead?, cacheWrite?, audioInput?, audioOutput?}` in credits per 1,000 tokens, as µcr. */
function llmRate(value: unknown, path: string, problems: string[]): Readonly<LlmRate> | undefined {
  if (!isRecord(value)) {
    problems.push(`${path}: must be {input, output} in credits per 1,000 tokens`);
    return undefined;
  }
  for (const field of Object.keys(value)) {
    if (!LLM_FIELDS.has(field)) problems.push(`${path}.${field}: unknown field (expected input, output, cacheRead, cacheWrite, audioInput, audioOutput)`);
  }
  const micro = (field: string, required: boolean): number | undefined => {
    if (value[field] === undefined) {
      if (required) problems.push(`${path}.${field}: required`);
      return undefined;
    }
    const parsed = creditsToMicro(value[field], `${path}.${field}`);
    if ('problem' in parsed) {
      problems.push(parsed.problem);
      return undefined;
    }
    return parsed.micro;
  };
  const before = problems.length;
  const inputPer1k = micro('input', true);
  const outputPer1k = micro('output', true);
  const cacheReadPer1k = micro('cacheRead', false);
  const cacheWritePer1k = micro('cacheWrite', false);
  const audioInputPer1k = micro('audioInput', false);
  const audioOutputPer1k = micro('audioOutput', false);
  if (problems.length > before || inputPer1k === undefined || outputPer1k === undefined) return undefined;
  const rate: LlmRate = { inputPer1k, outputPer1k };
  if (cacheReadPer1k !== undefined) rate.cacheReadPer1k = cacheReadPer1k;
  if (cacheWritePer1k !== undefined) rate.cacheWritePer1k = cacheWritePer1k;
  if (audioInputPer1k !== undefined) rate.audioInputPer1k = audioInputPer1k;
  if (audioOutputPer1k !== undefined) rate.audioOutputPer1k = audioOutputPer1k;
  return Object.freeze(rate);
}

/**
 * `provider` or `provider:model` (split at the first colon: model ids such as OpenAI's
 * fine-tunes contain colons). The provider must be one tollgate routes, to catch typos that
 * would otherwise leave a price silently unused.
 */
function parseKey(
  key: string,
  path: string,
  modelRequired: boolean,
  problems: string[],
): { provider: string; model?: string } | undefined {
  const colon = key.indexOf(':');
  const provider = (colon === -1 ? key : key.slice(0, colon)).trim().toLowerCase();
  const model = colon === -1 ? undefined : key.slice(colon + 1).trim().toLowerCase();
  if (model === '' || (modelRequired && model === undefined)) {
    problems.push(`${path}: key must be "provider:model"`);
    return undefined;
  }
  if (!(PROVIDER_IDS as readonly string[]).includes(provider)) {
    problems.push(`${path}: unknown provider "${provider}" (expected one of ${PROVIDER_IDS.join(', ')})`);
    return undefined;
  }
  return model === undefined ? { provider } : { provider, model };
}

function unique(seen: Set<string>, row: string, path: string, problems: string[]): boolean {
  if (seen.has(row)) {
    problems.push(`${path}: prices "${row}" a second time (model names are normalised before pricing)`);
    return false;
  }
  seen.add(row);
  return true;
}

function entries(section: unknown, path: string, problems: string[]): Array<[string, unknown, string]> {
  if (section === undefined || section === null) return [];
  if (!isRecord(section)) {
    problems.push(`${path}: must be a mapping`);
    return [];
  }
  return Object.entries(section).map(([key, value]) => [key, value, `${path}${pathPart(key)}`]);
}

function pathPart(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
