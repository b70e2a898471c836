// Test helper: the stack the ops tests start again and again: a redis-server of their own (AOF
// when the test restarts it), a settle journal dir, an OpenAI TTS upstream that answers at once
// or holds its answers until released, and tollgate processes (startOpsProcess, one worker) on a
// config of one Pro account with TTS at 15 credits per 1,000 code points. Closed at t.teardown.

import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOpsProcess, type OpsProcess } from './ops-process.js';
import { startRedis, type TestRedis } from './redis.js';
import { startUpstream, type Upstream } from './upstream.js';

export interface OpsStack {
  redis: TestRedis;
  up: Upstream;
  /** From now on the upstream holds its answers (until `release`; for ever without it). */
  hold(): void;
  /** Answers every held request and stops holding. */
  release(): void;
  /** The settle journal's dir (`journal: true`). */
  journalDir: string | undefined;
  config: Record<string, unknown>;
  /** A tollgate process on `config` with one worker (SIGKILLed at teardown). */
  start(): Promise<OpsProcess>;
  /** POST /openai/v1/audio/speech of `text` with the account's key. */
  speech(proxyUrl: string, text: string): Promise<Response>;
  /** GET /v1/usage of the account. */
  usage(adminUrl: string): Promise<any>;
}

export async function startOpsStack(
  t: Test,
  o: { key: string; keyPrefix: string; persistence?: 'aof'; journal?: boolean; config?: Record<string, unknown> },
): Promise<OpsStack> {
  const redis = await startRedis(o.persistence ? { persistence: o.persistence } : {});
  t.teardown(() => redis.stop());
  let journalDir: string | undefined;
  if (o.journal) {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-journal-test-'));
    journalDir = dir;
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  }
  let held: Promise<void> | undefined;
  let free = () => {};
  const up = await startUpstream(async (_req, res) => {
    if (held) await held;
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    res.end(Buffer.alloc(256, 1));
  });
  t.teardown(() => up.close());
  const config: Record<string, unknown> = {
    redis: { url: redis.url, keyPrefix: o.keyPrefix, ...(journalDir ? { journal: { dir: journalDir } } : {}) },
    pricing: { tts: { openai: 15 } },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
    accounts: [{ id: 'acme', tier: 'pro', apiKeys: [o.key] }],
    ...o.config,
  };
  return {
    redis,
    up,
    journalDir,
    config,
    hold() {
      held ??= new Promise<void>((r) => (free = r));
    },
    release() {
      free();
      held = undefined;
    },
    async start() {
      const p = await startOpsProcess(config, ['--workers', '1']);
      t.teardown(() => p.stop('SIGKILL'));
      return p;
    },
    speech: (proxyUrl, text) =>
      fetch(`${proxyUrl}/openai/v1/audio/speech`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini-tts', voice: 'coral', input: text }),
      }),
    usage: async (adminUrl) => (await fetch(`${adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${o.key}` } })).json(),
  };
}
