// The hot `settled` line is written by fastLine in pino's exact format, and the stdout line
// buffer hands lines on in blocks without losing or reordering any.

import t from 'tap';
import { createLogger, fastLine, lineBuffer } from '../proxy/logger.js';

const capture = () => {
  const lines: string[] = [];
  return { lines, dest: { write: (s: string) => void lines.push(s) } };
};

t.test('fastLine writes what pino writes, bindings included, and honours the level', async (t) => {
  const { lines, dest } = capture();
  const root = createLogger('info', dest);
  const child = root.child({ component: 'proxy' });
  const fields = { requestId: 'r1', units: { inputTokens: 24, outputTokens: 9 }, credits: '0.12', text: 'quote " and \\ backslash', gone: undefined };
  fastLine(child, 'settled')(fields);
  child.info(fields, 'settled');
  t.equal(lines.length, 2);
  const [fast, slow] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(lines[0]!.endsWith('\n'));
  delete fast!.time;
  delete slow!.time;
  t.same(fast, slow, 'same fields and values as pino');
  t.same(Object.keys(fast!), Object.keys(slow!), 'in the same order');
  t.equal(fast!.pid, process.pid);

  const { lines: quiet, dest: quietDest } = capture();
  fastLine(createLogger('warn', quietDest), 'settled')(fields);
  t.same(quiet, [], 'nothing below the level');
});

t.test('lineBuffer passes lines on in blocks of at least the threshold, in order, and flushes the rest', async (t) => {
  const blocks: string[] = [];
  let flushed = 0;
  let syncFlushed = 0;
  const buf = lineBuffer(
    {
      write: (s: string) => blocks.push(s) > 0,
      flush: (cb?: (err?: Error) => void) => {
        flushed++;
        cb?.();
      },
      flushSync: () => void syncFlushed++,
    },
    100,
  );
  const line = (i: number) => `{"n":${String(i).padStart(3, '0')}}\n`; // 10 bytes
  for (let i = 0; i < 25; i++) buf.write(line(i));
  t.same(
    blocks.map((b) => b.length),
    [100, 100],
    'two blocks of ten lines; five lines still held',
  );
  buf.flush();
  t.equal(flushed, 1);
  t.equal(blocks.length, 3);
  t.equal(blocks.join(''), Array.from({ length: 25 }, (_, i) => line(i)).join(''), 'every line once, in order');
  buf.write(line(25));
  buf.flushSync();
  t.equal(syncFlushed, 1);
  t.equal(blocks[3], line(25));
});
