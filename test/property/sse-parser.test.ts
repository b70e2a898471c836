// Property: the SSE parser sees the same events, and in transform mode forwards the same bytes,
// however the stream is cut into chunks (byte by byte included), with LF, CRLF or CR line ends.
import t from 'tap';
import fc from 'fast-check';
import { SseParser, type SseEvent } from '../../proxy/meters/sse.js';
import { cuts, fcParams, splitAt } from '../helpers/property.js';

const lineText = fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'b', ' ', ':', 'é', '中', '👋', '"', '{', '}') });
const event = fc.record({
  event: fc.option(fc.constantFrom('message_start', 'content_block_delta', 'ping', 'x'), { nil: undefined }),
  data: fc.array(lineText, { minLength: 1, maxLength: 3 }),
  comment: fc.boolean(),
});
type Gen = { event: string | undefined; data: string[]; comment: boolean };

function serialize(e: Gen, eol: string): string {
  let s = e.comment ? `: keep-alive${eol}` : '';
  if (e.event !== undefined) s += `event: ${e.event}${eol}`;
  for (const d of e.data) s += `data: ${d}${eol}`;
  return s + eol;
}

function run(chunks: readonly Buffer[], drop: (i: number) => boolean): { events: SseEvent[]; out: Buffer } {
  const events: SseEvent[] = [];
  const p = new SseParser((ev) => {
    events.push(ev);
    return !drop(events.length - 1);
  }, true);
  const out: Buffer[] = [];
  for (const c of chunks) {
    const o = p.push(c);
    if (o) out.push(o);
  }
  const tail = p.end();
  if (tail) out.push(tail);
  return { events, out: Buffer.concat(out) };
}

t.test('events and forwarded bytes do not depend on chunk boundaries', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'), fc.integer({ min: 2, max: 5 }), cuts(), (events, eol, every, fractions) => {
      runs++;
      const text = events.map((e) => serialize(e, eol)).join('');
      const bytes = Buffer.from(text);
      const drop = (i: number) => i % every === 0;
      const whole = run([bytes], drop);
      const split = run(splitAt(bytes, fractions), drop);
      const expected = events.map((e) => ({ event: e.event ?? '', data: e.data.join('\n') }));
      // The events are the ones written, in order; the dropped ones are gone byte-exactly.
      if (JSON.stringify(whole.events) !== JSON.stringify(expected)) return false;
      if (JSON.stringify(split.events) !== JSON.stringify(expected)) return false;
      const kept = events.filter((_, i) => !drop(i)).map((e) => serialize(e, eol)).join('');
      return whole.out.equals(Buffer.from(kept)) && split.out.equals(Buffer.from(kept));
    }),
    fcParams(1500),
  );
  t.equal(runs, 1500, '1,500 generated streams, each whole and cut at random');
});
