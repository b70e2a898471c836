// The embedded defaults `npm start` runs on with no config file: in-memory ledger (unless
// REDIS_URL is set), platform keys from the usual environment variables, one demo account.

import { generateApiKey } from '../proxy/keys.js';
import { validateConfig } from './load.js';
import type { Config } from './schema.js';

export const PROVIDER_ENV: Record<string, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  groq: 'GROQ_API_KEY',
  mistral: 'MISTRAL_API_KEY',
  elevenlabs: 'ELEVENLABS_API_KEY',
  deepgram: 'DEEPGRAM_API_KEY',
  cartesia: 'CARTESIA_API_KEY',
  fishaudio: 'FISH_AUDIO_API_KEY',
  resemble: 'RESEMBLE_API_KEY',
  inworld: 'INWORLD_API_KEY',
  qwen: 'DASHSCOPE_API_KEY',
};

export interface DefaultConfig {
  config: Config;
  demoKey: string;
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): DefaultConfig {
  const demoKey = env.TOLLGATE_DEMO_KEY && env.TOLLGATE_DEMO_KEY.length >= 16 ? env.TOLLGATE_DEMO_KEY : generateApiKey();
  const providers: Record<string, { apiKey: string }> = {};
  for (const [id, name] of Object.entries(PROVIDER_ENV)) {
    const v = env[name];
    if (v) providers[id] = { apiKey: v };
  }
  const raw: Record<string, unknown> = {
    proxy: { host: env.TOLLGATE_HOST ?? '127.0.0.1', port: env.TOLLGATE_PORT ?? 8080 },
    admin: { host: env.TOLLGATE_HOST ?? '127.0.0.1', port: env.TOLLGATE_ADMIN_PORT ?? 8081, ...(env.TOLLGATE_ADMIN_TOKEN ? { token: env.TOLLGATE_ADMIN_TOKEN } : {}) },
    providers,
    accounts: [{ id: 'demo', tier: 'free', apiKeys: [demoKey] }],
    ...(env.TOLLGATE_DASHBOARD_LINK_SECRET ? { dashboard: { linkSecret: env.TOLLGATE_DASHBOARD_LINK_SECRET } } : {}),
    // The demo mode: a TOLLGATE_DEMO_KEY of 16+ characters is accepted (a generated key is 35).
    auth: { allowWeakKeys: true },
  };
  if (env.REDIS_URL) raw.redis = { url: env.REDIS_URL };
  return { config: validateConfig(raw, env, 'embedded defaults'), demoKey };
}
