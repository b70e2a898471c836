// Loads the config: YAML file (or the embedded defaults), ${VAR} / ${VAR:-default} from the
// environment, one zod parse that reports every problem at once with its path.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, MIN_CONFIG_KEY_DISTINCT_CHARS, MIN_CONFIG_KEY_LENGTH, SELF_HOSTED_PROVIDERS, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super(`invalid config (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g;
const WHOLE_VAR = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}$/;

/**
 * Documented placeholders (config.example.yaml, the README): a config that still holds one is
 * refused, so nobody runs with a key or secret that is published.
 */
export const PLACEHOLDERS = ['tg_example_key_change_me_0001', 'sk_test_placeholder'];
const isPlaceholder = (v: string | undefined) => v !== undefined && (PLACEHOLDERS.includes(v) || /change_?me/i.test(v));

/**
 * Replaces ${VAR}, ${VAR:-default} and ${VAR:?message} (required) in every string scalar (after YAML parsing, so a value
 * can never inject YAML). A scalar that is exactly one unset ${VAR} with no default becomes
 * absent, so optional settings such as `apiKey: ${OPENAI_API_KEY}` simply drop out.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[], problems: string[]): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_VAR.exec(value);
    if (whole && whole[2] !== '?') {
      const v = env[whole[1]!];
      if (v !== undefined && v !== '') return v;
      return whole[2] === '-' ? whole[3] : undefined;
    }
    return value.replace(VAR, (_m, name: string, op: string | undefined, arg: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (op === '-') return arg ?? '';
      problems.push(`${path.join('.') || '(root)'}: environment variable ${name} is not set${op === '?' && arg ? `: ${arg}` : ''}`);
      return '';
    });
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => substituteEnv(v, env, [...path, String(i)], problems)).filter((v) => v !== undefined);
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const s = substituteEnv(v, env, [...path, k], problems);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return value;
}

/** Parses config text (YAML). Throws ConfigError listing every problem. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env, source = 'config'): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError([`YAML: ${(err as Error).message}`], source);
  }
  return validateConfig(raw, env, source);
}

export function validateConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, source = 'config'): Config {
  const problems: string[] = [];
  const substituted = substituteEnv(raw, env, [], problems);
  const result = configSchema.safeParse(substituted);
  problems.push(...weakKeyProblems(substituted));
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(`${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    }
  }
  if (result.success) problems.push(...crossCheck(result.data));
  if (problems.length > 0) throw new ConfigError(problems, source);
  return result.data!;
}

/** Checks zod cannot express field by field. */
function crossCheck(c: Config): string[] {
  const problems: string[] = [];
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  const placeholder = (where: string, v: string | undefined) => {
    if (isPlaceholder(v)) problems.push(`${where}: "${v}" is a documented placeholder, not a secret: set a real one (from the environment)`);
  };
  placeholder('admin.token', c.admin.token);
  placeholder('stripe.secretKey', c.stripe?.secretKey);
  placeholder('stripe.webhookSecret', c.stripe?.webhookSecret);
  placeholder('byok.masterKey', c.byok.masterKey);
  placeholder('alerts.secret', c.alerts?.secret);
  for (const [id, p] of Object.entries(c.providers)) placeholder(`providers.${id}.apiKey`, p?.apiKey);
  c.accounts.forEach((a, i) => {
    a.apiKeys.forEach((k, j) => placeholder(`accounts.${i}.apiKeys.${j}`, k));
    if (seenIds.has(a.id)) problems.push(`accounts.${i}.id: duplicate account id ${a.id}`);
    seenIds.add(a.id);
    a.apiKeys.forEach((k, j) => {
      if (seenKeys.has(k)) problems.push(`accounts.${i}.apiKeys.${j}: the same key is listed twice`);
      seenKeys.add(k);
    });
  });
  // The client's path carries the version (`/openai/v1/chat/completions` → `{baseUrl}/v1/…`).
  for (const [id, p] of Object.entries(c.providers)) {
    if (p?.baseUrl && /\/v\d+\/?$/.test(new URL(p.baseUrl).pathname)) {
      problems.push(`providers.${id}.baseUrl: leave out the version path (${new URL(p.baseUrl).pathname.replace(/\/$/, '')}): the client's path carries it`);
    }
  }
  for (const id of SELF_HOSTED_PROVIDERS) {
    const p = c.providers[id];
    if (p && !p.baseUrl) problems.push(`providers.${id}.baseUrl: ${id} is self-hosted and has no default baseUrl`);
    if (p?.byok && !p.apiKey) problems.push(`providers.${id}.byok: ${id}'s upstream takes no provider key (no apiKey), so a customer's key would replace nothing: BYOK cannot be enabled`);
  }
  if (c.admin.port !== 0 && c.admin.port === c.proxy.port && c.admin.host === c.proxy.host) {
    problems.push('admin.port: the admin port must differ from proxy.port');
  }
  if (c.metrics.host !== undefined && c.metrics.port === undefined) problems.push('metrics.port: set it too when metrics.host is set');
  const mp = c.metrics.port;
  if (mp !== undefined && mp !== 0 && ((mp === c.proxy.port && (c.metrics.host ?? c.admin.host) === c.proxy.host) || (mp === c.admin.port && (c.metrics.host ?? c.admin.host) === c.admin.host))) {
    problems.push('metrics.port: the metrics port must differ from proxy.port and admin.port');
  }
  return problems;
}

/** Config API keys too weak to stand for an account, checked on the raw config so they are listed beside schema problems. */
function weakKeyProblems(raw: unknown): string[] {
  const c = raw as { auth?: { allowWeakKeys?: unknown }; accounts?: unknown } | undefined;
  if (c?.auth?.allowWeakKeys === true || !Array.isArray(c?.accounts)) return [];
  const problems: string[] = [];
  c.accounts.forEach((a: unknown, i) => {
    const keys = (a as { apiKeys?: unknown } | null)?.apiKeys;
    if (!Array.isArray(keys)) return;
    keys.forEach((k: unknown, j) => {
      const weak = typeof k === 'string' ? weakKey(k) : undefined;
      if (weak) problems.push(`accounts.${i}.apiKeys.${j}: ${weak}; use an issued key (tollgate keys issue) or \`openssl rand -base64 32\` (auth.allowWeakKeys: true accepts it, for demos and tests only)`);
    });
  });
  return problems;
}

/**
 * Why a config API key is too weak to stand for an account, or undefined. Keys are stored as
 * SHA-256: safe for long random keys, guessable offline for short or patterned ones. The
 * message never contains the key.
 */
export function weakKey(key: string): string | undefined {
  if (key.length < MIN_CONFIG_KEY_LENGTH) return `an API key from config is at least ${MIN_CONFIG_KEY_LENGTH} characters (this one has ${key.length})`;
  if (/[\s\x00-\x1f\x7f]/.test(key)) return 'an API key may not contain whitespace or control characters';
  const distinct = new Set(key).size;
  if (distinct < MIN_CONFIG_KEY_DISTINCT_CHARS) return `an API key from config needs at least ${MIN_CONFIG_KEY_DISTINCT_CHARS} distinct characters (this one has ${distinct}): too little entropy`;
  return undefined;
}

/** Reads and parses a config file. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], file);
  }
  return parseConfig(text, env, file);
}
