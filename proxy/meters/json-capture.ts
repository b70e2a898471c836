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

/** The names of a wanted set as bytes, made once per set (meters pass one set for all requests). */
const NAMES = new WeakMap<ReadonlySet<string>, Array<{ name: string; bytes: Buffer }>>();

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
  /** The top-level key just read if it is a wanted one, else ''. */
  private key = '';
  private capturing = false;
  private captureParts: Buffer[] = [];
  private captureLen = 0;
  private overflow = false;
  private readonly values = new Map<string, string>();
  private readonly names: Array<{ name: string; bytes: Buffer }>;

  constructor(
    wanted: ReadonlySet<string>,
    private readonly maxBytes = 256 * 1024,
  ) {
    let names = NAMES.get(wanted);
    if (!names) NAMES.set(wanted, (names = [...wanted].map((name) => ({ name, bytes: Buffer.from(name, 'utf8') }))));
    this.names = names;
  }

  /**
   * The wanted name whose bytes are `src[from, to)`, else ''. Compared as bytes: no string is
   * decoded for the keys nobody asked for (most of them).
   */
  private wantedKey(src: Uint8Array | number[], from: number, to: number): string {
    const len = to - from;
    for (const { name, bytes } of this.names) {
      if (bytes.length !== len) continue;
      let j = 0;
      while (j < len && src[from + j] === bytes[j]) j++;
      if (j === len) return name;
    }
    return '';
  }

  push(chunk: Buffer): void {
    if (this.state === 'done') return;
    // The state lives in locals for the loop (written back at the end): a field read and
    // write per byte cost about twice the loop itself.
    let state: State = this.state;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let keyBytes = this.keyBytes;
    let keyFrom = keyBytes === null ? -1 : -2; // -2: the key began in an earlier chunk
    let from = this.capturing ? 0 : -1;
    const len = chunk.length;
    for (let i = 0; i < len; i++) {
      if (inString && !escaped && keyBytes === null) {
        // Inside a value's string (most of a completion's bytes): run to the next quote or
        // backslash in a tight loop; nothing else in a string changes the state.
        while (i < len) {
          const d = chunk[i]!;
          if (d === QUOTE || d === BACKSLASH) break;
          i++;
        }
        if (i === len) break;
      } else if (!inString && depth > 1) {
        // Inside a container nested in a top-level value (state is 'in-value': only 'value'
        // opens one), such as a completion's `choices`: only quotes and brackets matter.
        // Depth changes above 2 are kept here; a quote, or the bracket that closes back to
        // the top level, goes to the state machine below.
        while (i < len) {
          const d = chunk[i]!;
          if (d === QUOTE) break;
          if (d === OPEN_OBJ || d === OPEN_ARR) depth++;
          else if (d === CLOSE_OBJ || d === CLOSE_ARR) {
            if (depth === 2) break;
            depth--;
          }
          i++;
        }
        if (i === len) break;
      }
      const c = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          if (keyBytes) {
            // A key read whole in this chunk is decoded from it; one split across chunks
            // from the bytes gathered.
            if (keyFrom >= 0) this.key = this.wantedKey(chunk, keyFrom, i);
            else {
              for (let j = 0; j < i && keyBytes.length < 256; j++) keyBytes.push(chunk[j]!);
              this.key = this.wantedKey(keyBytes, 0, keyBytes.length);
            }
            keyBytes = null;
            keyFrom = -1;
            state = 'colon';
            continue;
          }
          if (depth === 1 && state === 'in-value') {
            // a string value at the top level ends here
            if (this.capturing) this.finishCapture(chunk, from, i + 1);
            from = -1;
            state = 'after-value';
          }
        }
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      switch (state) {
        case 'start':
          if (c === OPEN_OBJ) {
            depth = 1;
            state = 'key';
          } else state = 'done';
          break;
        case 'key':
          if (c === QUOTE) {
            inString = true;
            keyBytes = [];
            keyFrom = i + 1;
          } else if (c === CLOSE_OBJ) state = 'done';
          break;
        case 'colon':
          state = c === COLON ? 'value' : 'done';
          break;
        case 'value':
          if (this.key !== '') {
            this.capturing = true;
            this.captureParts = [];
            this.captureLen = 0;
            this.overflow = false;
            from = i;
          }
          state = 'in-value';
          if (c === QUOTE) inString = true;
          else if (c === OPEN_OBJ || c === OPEN_ARR) depth++;
          break;
        case 'in-value':
          if (c === QUOTE) inString = true;
          else if (c === OPEN_OBJ || c === OPEN_ARR) depth++;
          else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
            depth--;
            if (depth === 1) {
              if (this.capturing) this.finishCapture(chunk, from, i + 1);
              from = -1;
              state = 'after-value';
            } else if (depth === 0) {
              // scalar value ended by the closing brace of the document
              if (this.capturing) this.finishCapture(chunk, from, i);
              from = -1;
              state = 'done';
            }
          } else if (c === COMMA && depth === 1) {
            if (this.capturing) this.finishCapture(chunk, from, i);
            from = -1;
            state = 'key';
          }
          break;
        case 'after-value':
          if (c === COMMA) state = 'key';
          else state = 'done';
          break;
      }
      if (state === 'done') break;
    }
    // A key still open at the chunk's end keeps its bytes for the next chunk.
    if (keyBytes !== null) {
      const start = keyFrom >= 0 ? keyFrom : 0;
      for (let j = start; j < len && keyBytes.length < 256; j++) keyBytes.push(chunk[j]!);
    }
    this.state = state;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.keyBytes = keyBytes;
    if (this.capturing && from >= 0 && state !== 'done') this.append(chunk.subarray(from));
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
    if (from >= 0 && !this.overflow && this.captureParts.length === 0 && to - from <= this.maxBytes) {
      // The whole value is in this chunk: decoded from it, no copy.
      this.values.set(this.key, chunk.toString('utf8', from, to));
      this.capturing = false;
      return;
    }
    if (from >= 0) this.append(chunk.subarray(from, to));
    if (!this.overflow) this.values.set(this.key, Buffer.concat(this.captureParts).toString('utf8'));
    this.capturing = false;
    this.captureParts = [];
  }
}
