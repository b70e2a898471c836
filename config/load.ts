// Loads the config: YAML file (or the embedded defaults), ${VAR} / ${VAR:-default} from the
// environment, one zod parse that reports every problem at once with its path.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, SELF_HOSTED_PROVIDERS, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super(`invalid config (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_VAR = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/**
 * Replaces ${VAR} and ${VAR:-default} in every string scalar (after YAML parsing, so a value
 * can never inject YAML). A scalar that is exactly one unset ${VAR} with no default becomes
 * absent, so optional settings such as `apiKey: ${OPENAI_API_KEY}` simply drop out.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[], problems: string[]): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_VAR.exec(value);
    if (whole) {
      const v = env[whole[1]!];
      if (v !== undefined && v !== '') return v;
      return whole[2] !== undefined ? whole[2] : undefined;
    }
    return value.replace(VAR, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      problems.push(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
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
  c.accounts.forEach((a, i) => {
    if (seenIds.has(a.id)) problems.push(`accounts.${i}.id: duplicate account id ${a.id}`);
    seenIds.add(a.id);
    a.apiKeys.forEach((k, j) => {
      if (seenKeys.has(k)) problems.push(`accounts.${i}.apiKeys.${j}: the same key is listed twice`);
      seenKeys.add(k);
    });
  });
  for (const id of SELF_HOSTED_PROVIDERS) {
    const p = c.providers[id];
    if (p && !p.baseUrl) problems.push(`providers.${id}.baseUrl: ${id} is self-hosted and has no default baseUrl`);
    if (p?.byok && !p.apiKey) problems.push(`providers.${id}.byok: ${id}'s upstream takes no provider key (no apiKey), so a customer's key would replace nothing: BYOK cannot be enabled`);
  }
  if (c.admin.port !== 0 && c.admin.port === c.proxy.port && c.admin.host === c.proxy.host) {
    problems.push('admin.port: the admin port must differ from proxy.port');
  }
  return problems;
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
