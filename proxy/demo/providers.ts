// Stand-in providers for `tollgate demo`: one small local HTTP server that answers like the
// real APIs do, so a newcomer can watch metering with no provider account.
//   POST /v1/chat/completions            OpenAI-style LLM; SSE with a usage chunk when asked
//   POST /v1/audio/speech                OpenAI-style TTS (Kokoro, OpenAI): audio bytes
//   POST /v1/text-to-speech/{voice}      ElevenLabs TTS: audio bytes
//   POST /v1/audio/transcriptions        OpenAI/whisper STT: multipart upload in, JSON text out
//   POST /v1/listen                      Deepgram STT: raw audio in, JSON out
// Each answer says which key reached it (its last 4 characters), so BYOK is visible.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandIn {
  url: string;
  /** The key each request arrived with, in order. */
  keysSeen: string[];
  close(): Promise<void>;
}

const LLM_WORDS = ['Hello', ' from', ' the', ' stand-in', ' LLM.', ' Every', ' token', ' is', ' metered.'];

function keyOf(req: IncomingMessage): string {
  const a = req.headers.authorization ?? '';
  const xi = req.headers['xi-api-key'];
  if (typeof xi === 'string') return xi;
  return a.replace(/^(bearer|token)\s+/i, '');
}

const tail = (k: string) => (k ? `…${k.slice(-4)}` : 'no key');

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const b = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(b)) });
  res.end(b);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Seconds of a PCM WAV from its header (the stand-in reports what a provider would). */
function wavSeconds(b: Buffer): number | undefined {
  // Search after "RIFF": a multipart upload has "form-data" in its part headers.
  const riff = b.indexOf('RIFF');
  const i = b.indexOf('fmt ', riff);
  const d = b.indexOf('data', i);
  if (riff < 0 || i < 0 || d < 0) return undefined;
  const byteRate = b.readUInt32LE(i + 16);
  return byteRate > 0 ? b.readUInt32LE(d + 4) / byteRate : undefined;
}

async function chat(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
  const body = JSON.parse((await readAll(req)).toString('utf8') || '{}') as { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
  const model = body.model ?? 'gpt-4.1-mini';
  const words = [...LLM_WORDS, ` (the provider saw key ${tail(key)})`];
  const usage = { prompt_tokens: 42, completion_tokens: words.length, total_tokens: 42 + words.length };
  if (!body.stream) {
    sendJson(res, 200, { id: 'chatcmpl-demo', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }], usage });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const w of words) {
    res.write(`data: ${JSON.stringify({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: w } }] })}\n\n`);
    await new Promise((r) => setTimeout(r, 40));
  }
  if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', model, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

export async function startStandIns(): Promise<StandIn> {
  const keysSeen: string[] = [];
  const server = createServer((req, res) => {
    const key = keyOf(req);
    keysSeen.push(key);
    const path = (req.url ?? '/').split('?')[0]!;
    const run = async () => {
      if (req.method === 'POST' && path.endsWith('/chat/completions')) return chat(req, res, key);
      if (req.method === 'POST' && (path === '/v1/audio/speech' || path.startsWith('/v1/text-to-speech/'))) {
        await readAll(req);
        // A few bytes of "MP3": the demo only needs something to pass through.
        const audio = Buffer.alloc(4096, 0xff);
        res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(audio.length) });
        return void res.end(audio);
      }
      if (req.method === 'POST' && path.endsWith('/audio/transcriptions')) {
        const body = await readAll(req);
        const seconds = wavSeconds(body) ?? 0;
        return sendJson(res, 200, { text: `(${seconds} seconds of audio transcribed on key ${tail(key)})`, usage: { type: 'duration', seconds: Math.round(seconds) } });
      }
      if (req.method === 'POST' && path === '/v1/listen') {
        const seconds = wavSeconds(await readAll(req)) ?? 0;
        return sendJson(res, 200, { metadata: { duration: seconds, channels: 1 }, results: { channels: [{ alternatives: [{ transcript: `(${seconds} seconds of audio)` }] }] } });
      }
      await readAll(req);
      sendJson(res, 404, { error: { message: `the stand-in has no ${req.method} ${path}`, type: 'invalid_request_error' } });
    };
    run().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(err), type: 'api_error' } });
      else res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    keysSeen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A PCM WAV (8 kHz, mono, 16-bit) of `seconds` of a quiet 440 Hz tone. */
export function makeWav(seconds: number): Buffer {
  const rate = 8_000;
  const n = rate * seconds;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(2000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return b;
}
