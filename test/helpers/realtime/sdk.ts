// Test helper: what the official SDKs need to reach a local, plain-TCP socket server.
//
// `openai`'s OpenAIRealtimeWS and Cartesia's TTS websocket always turn the base URL into
// `wss://` (openai realtime/internal-base.js `url.protocol = 'wss'`; cartesia
// resources/tts/internal-base.ts `buildURL`): in production tollgate sits behind TLS. The `ws`
// client option `createConnection` lets the test keep the SDK's URL and code path and open a
// plain TCP socket to the same host and port instead of a TLS one.

import { createRequire } from 'node:module';
import net from 'node:net';

export const plainTcp = ((opts: { host?: string; hostname?: string; port?: number | string }) =>
  net.connect({ host: opts.hostname ?? opts.host ?? '127.0.0.1', port: Number(opts.port) })) as unknown as typeof net.createConnection;

/**
 * `@cartesia/cartesia-js` loaded through its CommonJS build. Its ESM build finds `ws` with a bare
 * `require('ws')` (internal/lib/tts/ws.mjs, stt/*-finalize/ws.mjs), which is undefined in an ES
 * module, and Node 20 has no global WebSocket: in ESM on Node 20 every Cartesia socket throws
 * "The \"ws\" peer dependency is required". CommonJS users (and Node 22+) are unaffected.
 */
export const Cartesia: typeof import('@cartesia/cartesia-js').default = createRequire(import.meta.url)('@cartesia/cartesia-js').default;
