// Captures chosen top-level fields of a JSON document as its bytes stream past (e.g. `usage`
// of a chat completion), holding only those fields' bytes, never the whole body.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

type State = 'start' | 'key' | 'colon' | 'value' | 'in-value' | 'after-value' | 'done';

/**
 * A small state machine over the top level of one JSON object. Values of the wanted keys are
 * kept (up to `maxBytes` each) and parsed at the end; everything else is only counted over.
 * Malformed input never throws: `result()` returns what was captured intact.
 */
export class JsonFieldCapture {
  private state: State = 'start';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private keyBytes: number[] | null = null;
  private key = '';
  private capturing = false;
  private captureParts: Buffer[] = [];
  private captureLen = 0;
  private overflow = false;
  private readonly values = new Map<string, string>();

  constructor(
    private readonly wanted: ReadonlySet<string>,
    private readonly maxBytes = 256 * 1024,
  ) {}

  push(chunk: Buffer): void {
    if (this.state === 'done') return;
    let from = this.capturing ? 0 : -1;
    const len = chunk.length;
    for (let i = 0; i < len; i++) {
      if (this.inString && !this.escaped && this.keyBytes === null) {
        // Inside a value's string (most of a completion's bytes): run to the next quote or
        // backslash in a tight loop; nothing else in a string changes the state.
        while (i < len) {
          const d = chunk[i]!;
          if (d === QUOTE || d === BACKSLASH) break;
          i++;
        }
        if (i === len) break;
      }
      const c = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.keyBytes) {
            this.key = Buffer.from(this.keyBytes).toString('utf8');
            this.keyBytes = null;
            this.state = 'colon';
            continue;
          }
          if (this.depth === 1 && this.state === 'in-value') {
            // a string value at the top level ends here
            if (this.capturing) this.finishCapture(chunk, from, i + 1);
            from = -1;
            this.state = 'after-value';
          }
          continue;
        }
        if (this.keyBytes && this.keyBytes.length < 256) this.keyBytes.push(c);
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      switch (this.state) {
        case 'start':
          if (c === OPEN_OBJ) {
            this.depth = 1;
            this.state = 'key';
          } else this.state = 'done';
          break;
        case 'key':
          if (c === QUOTE) {
            this.inString = true;
            this.keyBytes = [];
          } else if (c === CLOSE_OBJ) this.state = 'done';
          break;
        case 'colon':
          this.state = c === COLON ? 'value' : 'done';
          break;
        case 'value':
          if (this.wanted.has(this.key)) {
            this.capturing = true;
            this.captureParts = [];
            this.captureLen = 0;
            this.overflow = false;
            from = i;
          }
          this.state = 'in-value';
          if (c === QUOTE) this.inString = true;
          else if (c === OPEN_OBJ || c === OPEN_ARR) this.depth++;
          break;
        case 'in-value':
          if (c === QUOTE) this.inString = true;
          else if (c === OPEN_OBJ || c === OPEN_ARR) this.depth++;
          else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
            this.depth--;
            if (this.depth === 1) {
              if (this.capturing) this.finishCapture(chunk, from, i + 1);
              from = -1;
              this.state = 'after-value';
            } else if (this.depth === 0) {
              // scalar value ended by the closing brace of the document
              if (this.capturing) this.finishCapture(chunk, from, i);
              from = -1;
              this.state = 'done';
            }
          } else if (c === COMMA && this.depth === 1) {
            if (this.capturing) this.finishCapture(chunk, from, i);
            from = -1;
            this.state = 'key';
          }
          break;
        case 'after-value':
          if (c === COMMA) this.state = 'key';
          else this.state = 'done';
          break;
        case 'done':
          return;
      }
    }
    if (this.capturing && from >= 0) this.append(chunk.subarray(from));
  }

  /** Parsed values of the wanted keys that were seen whole. */
  result(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.values) {
      try {
        out[k] = JSON.parse(v);
      } catch {
        // a malformed field is as good as absent
      }
    }
    return out;
  }

  private append(part: Buffer): void {
    if (this.overflow) return;
    if (this.captureLen + part.length > this.maxBytes) {
      this.overflow = true;
      this.captureParts = [];
      return;
    }
    this.captureParts.push(Buffer.from(part));
    this.captureLen += part.length;
  }

  private finishCapture(chunk: Buffer, from: number, to: number): void {
    if (from >= 0) this.append(chunk.subarray(from, to));
    if (!this.overflow) this.values.set(this.key, Buffer.concat(this.captureParts).toString('utf8'));
    this.capturing = false;
    this.captureParts = [];
  }
}
