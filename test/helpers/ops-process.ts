// Test helper: tollgate as a real child process (`node dist/bin/tollgate.js …`) with a YAML
// config on ports chosen by the OS; its URLs come from its "tollgate listening" log line.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const TOLLGATE_BIN = fileURLToPath(new URL('../../bin/tollgate.js', import.meta.url));

export interface OpsProcess {
  proxyUrl: string;
  adminUrl: string;
  child: ChildProcess;
  /** Every stdout line so far (pino JSON). */
  logs: string[];
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** SIGTERM (or `signal`), then SIGKILL after `killAfterMs`; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | string>;
}

/** `serve --config <tmp>`; `config` gets ports 0 and info logging unless it sets them. */
export async function startOpsProcess(config: Record<string, unknown>, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<OpsProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-ops-'));
  const file = join(dir, 'config.yaml');
  // A journal dir inside the process's temp dir (removed at exit), unless the test names one.
  const redis = config.redis as { journal?: unknown } | undefined;
  if (redis && !redis.journal) config = { ...config, redis: { ...redis, journal: { dir: join(dir, 'journal') } } };
  writeFileSync(
    file,
    stringify({
      logging: { level: 'info' },
      ...config,
      proxy: { port: 0, ...((config.proxy as object) ?? {}) },
      admin: { port: 0, ...((config.admin as object) ?? {}) },
    }),
  );
  const child = spawn(process.execPath, [TOLLGATE_BIN, 'serve', '--config', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      r(code ?? signal ?? -1);
    }),
  );
  const urls = await new Promise<{ proxyUrl: string; adminUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tollgate did not start in 60 s: ${stderr}`)), 60_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tollgate exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const rec = JSON.parse(line) as { msg?: string; proxyUrl?: string; adminUrl?: string };
        if (rec.msg === 'tollgate listening' && rec.proxyUrl && rec.adminUrl) {
          clearTimeout(timer);
          resolve({ proxyUrl: rec.proxyUrl, adminUrl: rec.adminUrl });
        }
      } catch {
        // not a log record
      }
    });
  });
  return {
    ...urls,
    child,
    logs,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGTERM', killAfterMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return exited;
    },
  };
}

/** The pids of the workers that logged `tollgate listening`, in order. */
export const listeningPids = (p: OpsProcess): number[] => logRecords(p, 'tollgate listening').map((r) => r.pid as number);

/** Polls `f` every 25 ms until it returns a value (generous deadline: the machine is shared). */
export async function waitFor<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The JSON log records whose `msg` is `msg`. */
export function logRecords(p: OpsProcess, msg: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of p.logs) {
    try {
      const r = JSON.parse(l) as Record<string, unknown>;
      if (r.msg === msg) out.push(r);
    } catch {
      // not JSON
    }
  }
  return out;
}

export interface OpsExit {
  code: number | string;
  ms: number;
  stdout: string;
  stderr: string;
}

/** `serve --config <tmp>` expected to stop by itself (a startup failure): its exit, time and output. */
export async function runOpsToExit(config: Record<string, unknown>, args: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<OpsExit> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-ops-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(config));
  const t0 = performance.now();
  const child = spawn(process.execPath, [TOLLGATE_BIN, 'serve', '--config', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | string>((r) => child.once('close', (c, s) => r(c ?? s ?? -1)));
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });
  return { code, ms: performance.now() - t0, stdout, stderr };
}
