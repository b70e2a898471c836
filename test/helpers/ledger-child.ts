// Test helper: run a compiled helper script (dist/test/helpers/*.js) as a child process and
// talk to it line by line.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Child {
  proc: ChildProcess;
  /** The next stdout line that satisfies `match` (default: any). */
  line(match?: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `name` is a helper next to this one, e.g. 'ledger-reserve-child.js'. */
export function spawnChild(name: string, args: string[]): Child {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    const i = waiters.findIndex((w) => w.match(l));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(l);
    else lines.push(l);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    exited,
    line(match = () => true, timeoutMs = 20_000) {
      const i = lines.findIndex(match);
      if (i >= 0) return Promise.resolve(lines.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child ${name}: no matching line in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    send(line) {
      proc.stdin!.write(`${line}\n`);
    },
  };
}
