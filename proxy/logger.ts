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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts: LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}
