// The settle journal: settles that could not reach Redis wait here, on disk, until they are replayed.
//
// One append-only file per process (`<host>.<pid>.<random>.journal` in the journal dir), of JSON
// lines: `{"s":SettleInput,"at":ms,"sent":ms}` a settle, or the release of a reserve given up on
// (`AbandonedReserve`, replayed the same way; `sent`: when an attempt that may have
// reached Redis was last made, 0 for none), `{"try":[ids],"at":ms}` a replay about to be sent,
// `{"ack":[ids]}` settled (applied, or found settled already). Lines are written in batches
// (every `flushMs` or `flushEntries`) with one fdatasync per batch; an append resolves once it
// is on disk. The file is created on the first append and removed once everything in it is
// acknowledged, so a healthy process has none.
//
// Exactly once: a settle is idempotent by request id through Redis's markers, which are found
// for at least the idempotency window after the attempt that wrote them. A replay is sent only
// while that holds for every earlier attempt that may have reached Redis (`sent` + window >
// now, with a margin), or when none may have (`sent` = 0); before it is sent a `try` line is on
// disk, so a crash during the replay is covered the same way. An entry past its window that
// may already have been applied is not replayed: it moves to `unreplayable.jsonl` beside the
// journal, and an error line names it for the operator (docs/reliability.md).
//
// Orphans: a process that starts (and every replay) adopts the journal files of dead processes:
// on this host, a file whose pid is not alive (or is this process's pid, a predecessor's), and
// from any host, a file not touched for `staleMs` (a live owner touches its file every
// `staleMs / 10`). Adoption is an atomic rename, so two processes never adopt one file; the
// entries are copied into the adopter's own file before the adopted one is removed.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes, appendFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, SettleInput } from './types.js';

/**
 * A reserve tollgate gave up on (503 ledger_unavailable) that may still have reached Redis: its
 * reservation is released at no charge when Redis answers again, and it counts nowhere (the
 * request was never forwarded). Without it, that reservation would expire at its floor.
 */
export interface AbandonedReserve {
  abandoned: true;
  accountId: string;
  requestId: string;
  modality: string;
}

/** What the journal holds: settles, and releases of abandoned reserves. */
export type JournalInput = SettleInput | AbandonedReserve;

export interface JournalOptions {
  dir: string;
  /** The file's size at most; an append past it (after a compaction) is refused. */
  maxBytes: number;
  clock: Clock;
  logger: Logger;
  /** How long a replay is safe after an attempt that may have reached Redis (the idempotency window less a margin). */
  safeWindowMs: number;
  flushMs?: number;
  flushEntries?: number;
  staleMs?: number;
}

export interface Journal {
  readonly dir: string;
  /** Entries waiting for a replay. */
  size(): number;
  /** Writes the settle to disk; resolves once it is fsynced. Rejects when the journal is full. */
  append(input: JournalInput, maybeSent: boolean): Promise<void>;
  /**
   * Replays what waits through `send` (which settles a batch in Redis and resolves per entry,
   * or rejects when Redis is unreachable); adopts orphaned files first. Resolves with the
   * number of entries settled. One replay at a time.
   */
  replay(send: (inputs: JournalInput[]) => Promise<Array<'done' | 'retry'>>): Promise<number>;
  /** Writes what is buffered and closes the file (entries not yet replayed stay in it). */
  close(): Promise<void>;
}

interface Entry {
  input: JournalInput;
  at: number;
  sent: number;
}

const NAME = /^(.+)\.(\d+)\.([0-9a-f]+)\.journal$/;
/** The journal files this process has open (a file with this pid not among them is a predecessor's). */
const OPEN_HERE = new Set<string>();

export class JournalFullError extends Error {
  override name = 'JournalFullError';
}

export async function openJournal(o: JournalOptions): Promise<Journal> {
  const logger = o.logger.child({ component: 'journal' });
  const flushMs = o.flushMs ?? 50;
  const flushEntries = o.flushEntries ?? 256;
  const staleMs = o.staleMs ?? 30_000;
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const own = `${host}.${process.pid}.${randomBytes(6).toString('hex')}.journal`;
  const path = join(o.dir, own);
  const pending = new Map<string, Entry>();

  let fh: FileHandle | undefined;
  let bytes = 0;
  let buffer: string[] = [];
  let waiters: Array<{ resolve(): void; reject(err: unknown): void }> = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let heartbeat: NodeJS.Timeout | undefined;
  let closed = false;

  async function ensureFile(): Promise<FileHandle> {
    if (fh) return fh;
    await mkdir(o.dir, { recursive: true });
    fh = await open(path, 'a');
    heartbeat = setInterval(() => void utimes(path, new Date(), new Date()).catch(() => {}), Math.max(100, staleMs / 10));
    heartbeat.unref();
    return fh;
  }

  /** Writes the buffered lines and fsyncs them; the waiters resolve after. Serialised. */
  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const lines = buffer;
    const ws = waiters;
    buffer = [];
    waiters = [];
    writing = writing.then(async () => {
      if (lines.length === 0) {
        for (const w of ws) w.resolve();
        return;
      }
      try {
        const f = await ensureFile();
        const data = Buffer.from(lines.join(''));
        await f.write(data);
        await f.datasync();
        for (const w of ws) w.resolve();
      } catch (err) {
        for (const w of ws) w.reject(err);
      }
      // Everything acknowledged: the file goes (a later append starts a new one).
      if (pending.size === 0 && buffer.length === 0 && fh) await removeFile();
    });
    return writing;
  }

  async function removeFile(): Promise<void> {
    const f = fh;
    fh = undefined;
    bytes = 0;
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
    await f?.close().catch(() => {});
    await unlink(path).catch(() => {});
  }

  function write(line: unknown, urgent = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const text = `${JSON.stringify(line)}\n`;
      bytes += Buffer.byteLength(text);
      buffer.push(text);
      waiters.push({ resolve, reject });
      if (urgent || buffer.length >= flushEntries) void flush();
      else timer ??= setTimeout(() => void flush(), flushMs);
    });
  }

  /** Rewrites the file with only what waits (when it is full of acknowledged lines). */
  async function compact(): Promise<void> {
    await flush();
    writing = writing.then(async () => {
      if (!fh) return;
      const tmp = `${path}.tmp`;
      const data = Buffer.from([...pending.values()].map((e) => `${JSON.stringify({ s: e.input, at: e.at, sent: e.sent })}\n`).join(''));
      const t = await open(tmp, 'w');
      await t.write(data);
      await t.datasync();
      await t.close();
      await fh.close();
      await rename(tmp, path);
      fh = await open(path, 'a');
      bytes = data.length;
    });
    await writing;
  }

  /** Reads a journal file's lines into entries still waiting (later lines win). */
  function parse(text: string): Map<string, Entry> {
    const out = new Map<string, Entry>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      let r: { s?: JournalInput; at?: number; sent?: number; try?: string[]; ack?: string[] };
      try {
        r = JSON.parse(line);
      } catch {
        continue; // a torn last line (the process died mid-write): that entry was never acknowledged to its caller
      }
      if (r.s) out.set(r.s.requestId, { input: r.s, at: r.at ?? 0, sent: r.sent ?? 0 });
      else if (r.try) for (const id of r.try) {
        const e = out.get(id);
        if (e) e.sent = r.at ?? 0;
      }
      else if (r.ack) for (const id of r.ack) out.delete(id);
    }
    return out;
  }

  function alive(pid: number, name: string): boolean {
    if (pid === process.pid) return OPEN_HERE.has(name); // else this pid's previous owner (a restarted container)
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /** Adopts the files of dead processes: their waiting entries become this process's. */
  async function adopt(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(o.dir);
    } catch {
      return 0;
    }
    let adopted = 0;
    for (const name of names) {
      const m = NAME.exec(name);
      if (!m || name === own) continue;
      const file = join(o.dir, name);
      let orphan = m[1] === host && !alive(Number(m[2]), name);
      if (!orphan) {
        const st = await stat(file).catch(() => undefined);
        orphan = st !== undefined && o.clock.now() - st.mtimeMs > staleMs;
      }
      if (!orphan) continue;
      const claimed = `${file}.adopting.${process.pid}`;
      try {
        await rename(file, claimed); // atomic: one adopter wins
      } catch {
        continue;
      }
      const entries = parse(await readFile(claimed, 'utf8'));
      const lines: Promise<void>[] = [];
      for (const [id, e] of entries) {
        if (pending.has(id)) continue;
        pending.set(id, e);
        lines.push(write({ s: e.input, at: e.at, sent: e.sent }));
      }
      await flush();
      await Promise.all(lines);
      await unlink(claimed);
      adopted += entries.size;
      logger.warn({ file: name, entries: entries.size }, 'adopted the settle journal of a process that is gone');
    }
    // A claimed file whose adopter died before copying it: claim it again.
    for (const name of names) {
      const m = /^(.+\.journal)\.adopting\.(\d+)$/.exec(name);
      if (m && !alive(Number(m[2]), '')) await rename(join(o.dir, name), join(o.dir, m[1]!)).catch(() => {});
    }
    return adopted;
  }

  let replaying: Promise<number> | undefined;

  async function replayOnce(send: (inputs: JournalInput[]) => Promise<Array<'done' | 'retry'>>): Promise<number> {
    await adopt();
    if (pending.size === 0) return 0;
    const now = o.clock.now();
    const batch: Entry[] = [];
    const expired: Entry[] = [];
    for (const e of pending.values()) {
      if (e.sent === 0 || now - e.sent < o.safeWindowMs) batch.push(e);
      else expired.push(e);
    }
    if (expired.length) {
      await mkdir(o.dir, { recursive: true });
      await appendFile(join(o.dir, 'unreplayable.jsonl'), expired.map((e) => `${JSON.stringify({ s: e.input, at: e.at, sent: e.sent })}\n`).join(''));
      for (const e of expired) {
        pending.delete(e.input.requestId);
        logger.error({ settlement: e.input, journaledAt: e.at, lastSentAt: e.sent }, 'journaled settle older than the idempotency window and possibly applied already: not replayed (moved to unreplayable.jsonl)');
      }
      await write({ ack: expired.map((e) => e.input.requestId) }, true);
    }
    let settled = 0;
    for (let i = 0; i < batch.length; i += 500) {
      const part = batch.slice(i, i + 500);
      const ids = part.map((e) => e.input.requestId);
      // On disk before it is sent: a crash during the replay leaves its time for the next one.
      await write({ try: ids, at: now }, true);
      for (const e of part) e.sent = now;
      let answers: Array<'done' | 'retry'>;
      try {
        answers = await send(part.map((e) => e.input));
      } catch {
        break; // unreachable again: the next replay
      }
      const done = ids.filter((_, j) => answers[j] === 'done');
      for (const id of done) pending.delete(id);
      settled += done.length;
      if (done.length) await write({ ack: done }, true);
    }
    if (settled) logger.info({ settled, waiting: pending.size }, 'journaled settles replayed');
    return settled;
  }

  // What this process's predecessors left is adopted now (replayed once Redis answers).
  OPEN_HERE.add(own);
  await adopt();

  return {
    dir: o.dir,
    size: () => pending.size,
    async append(input, maybeSent) {
      if (closed) throw new JournalFullError('the journal is closed');
      const at = o.clock.now();
      const entry: Entry = { input, at, sent: maybeSent ? at : 0 };
      const line = { s: input, at, sent: entry.sent };
      const size = Buffer.byteLength(JSON.stringify(line)) + 1;
      if (bytes + size > o.maxBytes && fh) await compact();
      if (bytes + size > o.maxBytes) throw new JournalFullError(`the settle journal is full (${o.maxBytes} bytes in ${o.dir})`);
      pending.set(input.requestId, entry);
      await write(line);
    },
    replay(send) {
      replaying ??= replayOnce(send).finally(() => (replaying = undefined));
      return replaying;
    },
    async close() {
      closed = true;
      OPEN_HERE.delete(own);
      await flush();
      await writing;
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      if (pending.size === 0 && fh) await removeFile();
      else await fh?.close().catch(() => {});
      fh = undefined;
    },
  };
}
