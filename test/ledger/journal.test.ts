// The settle journal (ledger/journal.ts): on disk before an append resolves, replayed once and
// then removed, never replayed past the idempotency window when an attempt may have landed,
// bounded, and adopted from a dead process.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openJournal, type Journal, type JournalInput } from '../../ledger/journal.js';
import type { SettleInput } from '../../ledger/types.js';
import { manualClock } from '../helpers/ledger-clock.js';

const logger = pino({ level: 'silent' });
const settle = (requestId: string, microCredits = 1_000): SettleInput => ({ accountId: 'acme', requestId, modality: 'tts', provider: 'openai', byok: false, microCredits, units: {}, outcome: 'ok' });
const WINDOW = 3_540_000;

function dirFor(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-journal-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.journal'));
const sendAll = (sent: string[]) => async (inputs: JournalInput[]) => {
  sent.push(...inputs.map((i) => i.requestId));
  return inputs.map(() => 'done' as const);
};

t.test('append is on disk when it resolves; a replay settles each once and removes the file', async (t) => {
  const dir = dirFor(t);
  const clock = manualClock(1_000_000);
  const j = await openJournal({ dir, maxBytes: 1 << 20, clock, logger, safeWindowMs: WINDOW });
  t.teardown(() => j.close());
  await Promise.all([j.append(settle('a'), false), j.append(settle('b'), true)]);
  t.equal(j.size(), 2);
  const [file] = files(dir);
  t.match(file, new RegExp(`\\.${process.pid}\\.[0-9a-f]+\\.journal$`), 'named by host and pid');
  const lines = readFileSync(join(dir, file!), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((l) => [l.s.requestId, l.sent]), [['a', 0], ['b', 1_000_000]], 'both lines, with when b may have reached Redis');
  const sent: string[] = [];
  t.equal(await j.replay(sendAll(sent)), 2);
  t.same(sent.sort(), ['a', 'b']);
  t.equal(j.size(), 0);
  t.equal(await j.replay(sendAll(sent)), 0, 'nothing twice');
  t.equal(sent.length, 2);
  await j.close();
  t.same(files(dir), [], 'the file is gone once everything in it is settled');
});

t.test('past the idempotency window an entry that may have been applied is set aside, not replayed', async (t) => {
  const dir = dirFor(t);
  const clock = manualClock(1_000_000);
  const j = await openJournal({ dir, maxBytes: 1 << 20, clock, logger, safeWindowMs: WINDOW });
  t.teardown(() => j.close());
  await j.append(settle('maybe'), true);
  await j.append(settle('never-sent'), false);
  clock.advance(WINDOW);
  const sent: string[] = [];
  t.equal(await j.replay(sendAll(sent)), 1);
  t.same(sent, ['never-sent'], 'only what no attempt may have applied');
  t.equal(j.size(), 0);
  // A replay's own attempt counts: one that failed (Redis gone again) may have landed.
  await j.append(settle('retried'), false);
  t.equal(await j.replay(async () => { throw new Error('down'); }), 0);
  clock.advance(WINDOW);
  t.equal(await j.replay(sendAll(sent)), 0);
  t.same(sent, ['never-sent']);
  const aside = readFileSync(join(dir, 'unreplayable.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).s.requestId);
  t.same(aside, ['maybe', 'retried'], 'the others wait for the operator in unreplayable.jsonl');
});

t.test('bounded: past maxBytes (after a compaction) an append is refused', async (t) => {
  const dir = dirFor(t);
  const j = await openJournal({ dir, maxBytes: 4096, clock: manualClock(0), logger, safeWindowMs: WINDOW });
  t.teardown(() => j.close());
  let ok = 0;
  let refused: unknown;
  for (let i = 0; i < 100 && !refused; i++) {
    await j.append(settle(`r${i}`), false).then(() => ok++, (e: unknown) => (refused = e));
  }
  t.match(refused, { name: 'JournalFullError' });
  t.equal(j.size(), ok, 'every accepted one waits');
  t.ok(ok > 10 && ok < 40, `${ok} settles of ~150 bytes in 4 KiB`);
});

t.test('a dead process’s file is adopted once, torn last line and all', async (t) => {
  const dir = dirFor(t);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const name = `${host}.${dead}.abc123.journal`;
  writeFileSync(
    join(dir, name),
    [
      JSON.stringify({ s: settle('x1'), at: 5, sent: 0 }),
      JSON.stringify({ s: settle('x2'), at: 5, sent: 0 }),
      JSON.stringify({ s: settle('x3'), at: 5, sent: 0 }),
      JSON.stringify({ ack: ['x2'] }),
      '{"s":{"accountId":"acme","requestId":"torn"',
    ].join('\n'),
  );
  const clock = manualClock(1_000);
  const a: Journal = await openJournal({ dir, maxBytes: 1 << 20, clock, logger, safeWindowMs: WINDOW });
  t.teardown(() => a.close());
  t.equal(a.size(), 2, 'x1 and x3 wait (x2 was settled, the torn line never was acknowledged)');
  t.notOk(existsSync(join(dir, name)), 'the orphan is gone, its entries in the adopter’s own file');
  t.equal(files(dir).length, 1);
  const b = await openJournal({ dir, maxBytes: 1 << 20, clock, logger, safeWindowMs: WINDOW });
  t.teardown(() => b.close());
  t.equal(b.size(), 0, 'a live process’s file is not adopted');
  const sent: string[] = [];
  t.equal(await a.replay(sendAll(sent)), 2);
  t.same(sent.sort(), ['x1', 'x3']);
});
