// The process logger: pino, JSON lines, every key-bearing field redacted.

import { pino, type Logger, type LoggerOptions } from 'pino';

/** Paths that may carry secrets in anything tollgate logs; values become "[redacted]". */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["xi-api-key"]',
  'req.headers["api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["xi-api-key"]',
  'headers["api-key"]',
  'apiKey',
  'key',
  'token',
  'secretKey',
  'webhookSecret',
  'masterKey',
  '*.apiKey',
  '*.apiKeys',
  '*.key',
  '*.token',
  '*.secretKey',
  '*.webhookSecret',
  '*.masterKey',
  '*.previousMasterKeys',
];

/** Buffered stdout is flushed at least this often, so a quiet proxy's lines still appear promptly. */
export const LOG_FLUSH_INTERVAL_MS = 1_000;
/** Lines are written once this much is buffered (or by the timer above). */
export const LOG_BUFFER_BYTES = 32 * 1024;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const opts: LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (destination) return pino(opts, destination);
  // One `settled` line per request: a synchronous write each was ~4% of the proxy's CPU in the
  // bench profile, and 4 KB writes still ~5% (a write syscall costs ~100 µs on this kind of VM).
  // Lines are gathered (32 KB, ~80 lines) and handed to sonic-boom, which writes them
  // asynchronously; a timer flushes a quiet buffer, and an exit hook flushes synchronously so
  // nothing is lost on shutdown.
  const logger = pino(opts, lineBuffer(pino.destination({ dest: 1, sync: false }), LOG_BUFFER_BYTES));
  setInterval(() => logger.flush(), LOG_FLUSH_INTERVAL_MS).unref();
  return logger;
}

interface SonicLike {
  write(s: string): boolean;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/**
 * Gathers lines and passes them to `dest` in blocks of about `bytes`. sonic-boom's own
 * buffering measures its whole pending buffer on every line (Buffer.byteLength of a growing
 * string: O(n²) per block; 3% of the proxy's CPU at 32 KB); joining an array once per block
 * does not.
 */
export function lineBuffer(dest: SonicLike, bytes: number): pino.DestinationStream & { flush(cb?: (err?: Error) => void): void; flushSync(): void } {
  let parts: string[] = [];
  let size = 0;
  const pass = () => {
    if (parts.length === 0) return;
    const block = parts.length === 1 ? parts[0]! : parts.join('');
    parts = [];
    size = 0;
    dest.write(block);
  };
  const out = {
    write(line: string) {
      parts.push(line);
      size += line.length;
      if (size >= bytes) pass();
    },
    flush(cb?: (err?: Error) => void) {
      pass();
      dest.flush(cb);
    },
    flushSync() {
      pass();
      dest.flushSync();
    },
  };
  process.once('exit', () => {
    try {
      out.flushSync();
    } catch {
      // the destination is closed or still writing: nothing more can be done at exit
    }
  });
  return out;
}

/**
 * A writer for one hot log line (`settled`, one per request) in pino's own format, on the
 * logger's destination: one native JSON.stringify of the fields instead of pino's per-key walk
 * (about 4% of the proxy's CPU per request in the bench profile). Only for fields that never
 * hold a secret: this skips redaction.
 */
export function fastLine(logger: Logger, msg: string): (fields: object) => void {
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[pino.symbols.streamSym] as { write(s: string): void };
  // pino's bindings as it writes them (the base `pid` and any child's), each led by a comma.
  const chindings = String(internals[pino.symbols.chindingsSym] ?? '');
  const prefix = `{"level":${logger.levels.values.info},"time":`;
  const mid = `${chindings},`;
  const suffix = `,"msg":${JSON.stringify(msg)}}\n`;
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    const body = JSON.stringify(fields);
    stream.write(body.length > 2 ? prefix + Date.now() + mid + body.slice(1, -1) + suffix : prefix + Date.now() + chindings + suffix);
  };
}
