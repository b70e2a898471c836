// A bench process under valgrind's callgrind with instrumentation off until asked: the HTTP
// (bench/instructions.ts) and realtime (bench/rt-instructions.ts) instruction counts share it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Callgrind {
  /** `callgrind_control FLAG pid` (--instr=on, --dump: dump and zero, --instr=off). */
  ctl(flag: string): void;
  /** The instruction total of the process's `n`th dump (1-based). */
  totals(n: number): number;
  stop(): void;
}

export function hasValgrind(): boolean {
  return spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs `node script args` under callgrind, dumps in `dir`; resolves once `port` answers HTTP. */
export async function startCallgrind(name: string, script: string, scriptArgs: string[], port: number, env: NodeJS.ProcessEnv, dir: string): Promise<Callgrind> {
  const out = join(dir, `cg.${name}`);
  const proc = spawn(
    'valgrind',
    ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}.%p`, process.execPath, '--max-semi-space-size=32', script, ...scriptArgs],
    { stdio: 'ignore', env: { ...process.env, ...env } },
  );
  try {
    await waitPort(port, proc);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return {
    ctl(flag) {
      const r = spawnSync('callgrind_control', [flag, String(proc.pid)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`callgrind_control ${flag}: ${r.stderr}`);
    },
    totals(n) {
      // Dumps are written as <out>.<pid>.<n>.
      const file = readdirSync(dir).find((f) => f.startsWith(`cg.${name}.`) && f.endsWith(`.${n}`));
      if (!file) throw new Error(`no callgrind dump ${n} for ${name}`);
      const totals = /^totals:\s*(\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
      if (!totals) throw new Error(`no totals in ${file}`);
      return Number(totals[1]);
    },
    stop: () => proc.kill('SIGKILL'),
  };
}

/** Node under valgrind starts slowly (minutes on a loaded machine). */
async function waitPort(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`the process under valgrind exited with ${proc.exitCode}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await sleep(500);
    }
  }
  throw new Error(`port ${port} did not open within 300 s`);
}
