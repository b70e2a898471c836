// Incremental Server-Sent Events parser for stream meters: sees bytes as they pass, holds at
// most one unfinished event, and can drop whole events from what the client receives.
// Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

export interface SseEvent {
  /** `event:` field; '' when absent (the spec's default "message"). */
  event: string;
  /** `data:` lines joined with '\n'. */
  data: string;
}

/** Return false to drop the event from the bytes sent to the client. */
export type SseVisitor = (ev: SseEvent) => boolean | void;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into SSE events. In pass-through mode (`transform: false`) the caller
 * forwards its chunks untouched and this only parses; in transform mode `push` returns the
 * bytes of the complete, kept events (so an event can be removed) and holds the unfinished tail.
 */
export class SseParser {
  private tail: Buffer | null = null;

  constructor(
    private readonly visit: SseVisitor,
    private readonly transform = false,
  ) {}

  /** Feeds a chunk; in transform mode returns the bytes to forward now. */
  push(chunk: Buffer): Buffer | undefined {
    const buf = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    let start = 0;
    let out: Buffer[] | undefined;
    let keptFrom = 0;
    for (;;) {
      const end = findEventEnd(buf, start);
      if (end < 0) break;
      const keep = this.visit(parseEvent(buf.subarray(start, end)));
      const next = skipBlankLine(buf, end);
      if (this.transform && keep === false) {
        (out ??= []).push(buf.subarray(keptFrom, start));
        keptFrom = next;
      }
      start = next;
    }
    this.tail = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
    if (!this.transform) return undefined;
    const ready = buf.subarray(keptFrom, start);
    if (!out) return ready;
    out.push(ready);
    return Buffer.concat(out);
  }

  /**
   * End of stream: an unterminated last event is still visited (lenient: some servers omit the
   * final blank line); returns its bytes if kept. A tail of bare line endings is no event.
   */
  end(): Buffer | undefined {
    const tail = this.tail;
    this.tail = null;
    if (!tail || tail.length === 0) return undefined;
    if (tail.every((c) => c === LF || c === CR)) return this.transform ? tail : undefined;
    const keep = this.visit(parseEvent(tail));
    return this.transform && keep !== false ? tail : undefined;
  }
}

/** Index of the first line terminator that ends an event (blank line follows), or -1. */
function findEventEnd(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (c !== LF && c !== CR) continue;
    // i is a line end; the event ends if the next line is empty.
    let j = i + 1;
    if (c === CR && buf[j] === LF) j++;
    if (j >= buf.length) return -1;
    const d = buf[j];
    if (d === LF) return i;
    // A blank line that is a CR at the end of the bytes so far may be the first half of a CRLF
    // split across chunks: wait for the next byte, or the LF would count as part of the next event.
    if (d === CR) return j + 1 < buf.length ? i : -1;
  }
  return -1;
}

/** Position after the line end at `i` and the blank line that follows it. */
function skipBlankLine(buf: Buffer, i: number): number {
  let j = i + 1;
  if (buf[i] === CR && buf[j] === LF) j++;
  const c = buf[j];
  j++;
  if (c === CR && buf[j] === LF) j++;
  return j;
}

function parseEvent(bytes: Buffer): SseEvent {
  const text = bytes.toString('utf8');
  let event = '';
  let data: string[] | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '' || line.charCodeAt(0) === 58 /* ':' comment */) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') (data ??= []).push(value);
    else if (field === 'event') event = value;
  }
  return { event, data: data ? data.join('\n') : '' };
}
