// Test helper for the chaos soak: sends one planned request through a tollgate over raw HTTP
// (so it can leave at an exact phase: before the headers, mid-body, after k streamed deltas)
// in the provider's own wire format, with the key where the provider's SDK puts it.

import { Agent, request, type IncomingMessage } from 'node:http';
import type { EventEmitter } from 'node:events';
import { multipart, wavBytes } from '../voice-audio-fixtures.js';
import { BYOK_PREFIX } from './soak-providers.js';
import { keyOf, type SoakRequest } from './soak-plan.js';

export interface ClientResult {
  status?: number;
  /** The tollgate error code (`x-tollgate-error`), when it refused. */
  code?: string;
  /** tollgate's request id (`x-tollgate-request-id`), when the client got headers. */
  requestId?: string;
  /** The client read the whole answer. */
  complete: boolean;
  /** The client left on purpose (its fault) or the connection failed (`error`). */
  left: boolean;
  error?: string;
  start: number;
  end: number;
}

const PCM8K = { sampleRate: 8_000, channels: 1, bitsPerSample: 16 };

function build(q: SoakRequest): { path: string; headers: Record<string, string>; body: Buffer } {
  const key = keyOf(q.account.id);
  const h: Record<string, string> = { 'x-request-id': q.id, 'x-soak-fault': q.fault, 'x-soak-out': String(q.out), 'x-soak-k': String(q.k) };
  const json = (o: object) => Buffer.from(JSON.stringify(o));
  switch (q.kind) {
    case 'openai-json':
    case 'openai-stream': {
      const stream = q.kind === 'openai-stream';
      const b: Record<string, unknown> = { model: q.model, messages: [{ role: 'user', content: q.text }] };
      if (q.maxTokens !== undefined) b[q.n % 2 ? 'max_tokens' : 'max_completion_tokens'] = q.maxTokens;
      if (stream) b.stream = true;
      if (q.byok) h['x-provider-key-openai'] = `${BYOK_PREFIX}openai-${q.account.id}-000000`;
      return { path: '/openai/v1/chat/completions', headers: { ...h, authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: json(b) };
    }
    case 'anthropic-json':
    case 'anthropic-stream': {
      const b: Record<string, unknown> = { model: q.model, max_tokens: q.maxTokens, messages: [{ role: 'user', content: q.text }] };
      if (q.kind === 'anthropic-stream') b.stream = true;
      if (q.byok) h['x-provider-key-anthropic'] = `${BYOK_PREFIX}anthropic-${q.account.id}-000000`;
      return { path: '/anthropic/v1/messages', headers: { ...h, 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: json(b) };
    }
    case 'tts':
      return { path: '/elevenlabs/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=mp3_44100_128', headers: { ...h, 'xi-api-key': key, 'content-type': 'application/json' }, body: json({ text: q.text, model_id: 'eleven_multilingual_v2' }) };
    case 'kokoro-byok-header':
      return { path: '/kokoro/v1/audio/speech', headers: { ...h, authorization: `Bearer ${key}`, 'x-provider-key-kokoro': 'anything', 'content-type': 'application/json' }, body: json({ model: 'kokoro', input: q.text, voice: 'af_bella', response_format: 'mp3', stream: false }) };
    case 'stt': {
      const m = multipart([
        { name: 'model', value: 'whisper-1' },
        { name: 'file', value: wavBytes(q.audioSeconds * 1000, PCM8K), filename: 'speech.wav', contentType: 'audio/wav' },
      ]);
      return { path: '/openai/v1/audio/transcriptions', headers: { ...h, authorization: `Bearer ${key}`, 'content-type': m.contentType }, body: m.body };
    }
  }
}

/** Sends `q` to `proxyUrl`; resolves when the client has its answer, left, or the connection failed. Never rejects. */
export function sendSoakRequest(q: SoakRequest, proxyUrl: string, agent: Agent, providerEvents: EventEmitter, timeoutMs = 30_000): Promise<ClientResult> {
  const { path, headers, body } = build(q);
  const start = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const onReceived = () => leave();
    const finish = (r: Omit<ClientResult, 'start' | 'end'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      providerEvents.off(`received:${q.id}`, onReceived);
      resolve({ ...r, start, end: performance.now() });
    };
    let res: IncomingMessage | undefined;
    const rid = () => (res?.headers['x-tollgate-request-id'] ? { requestId: String(res.headers['x-tollgate-request-id']) } : {});
    const leave = () => {
      finish(res ? { status: res.statusCode!, complete: false, left: true, ...rid() } : { complete: false, left: true });
      req.destroy();
    };
    const req = request(`${proxyUrl}${path}`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } });
    const timer = setTimeout(() => {
      finish({ complete: false, left: false, error: 'client timeout' });
      req.destroy();
    }, timeoutMs);
    if (q.fault === 'hold') providerEvents.once(`received:${q.id}`, onReceived);
    req.on('error', (err) => finish({ status: res?.statusCode, complete: false, left: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.on('response', (r) => {
      res = r;
      const status = r.statusCode!;
      const code = r.headers['x-tollgate-error'] as string | undefined;
      const ok = status >= 200 && status < 300;
      if (ok && q.fault === 'big') {
        r.once('data', () => leave());
        return;
      }
      let deltas = 0;
      let tail = '';
      r.on('data', (c: Buffer) => {
        if (!ok || q.fault !== 'wait-at-k') return;
        // Count the planned deltas ("tok " in either format), across chunk boundaries.
        const s = tail + c.toString('latin1');
        for (let i = s.indexOf('"tok "'); i !== -1; i = s.indexOf('"tok "', i + 1)) deltas++;
        tail = s.slice(-5);
        if (deltas >= q.k) leave();
      });
      r.on('error', () => finish({ status, complete: false, left: false, error: 'response error', ...rid() }));
      r.on('end', () => finish(code ? { status, code, complete: true, left: false, ...rid() } : { status, complete: true, left: false, ...rid() }));
      r.on('aborted', () => finish({ status, complete: false, left: false, error: 'aborted', ...rid() }));
    });
    req.end(body);
    if (q.fault === 'early') setImmediate(leave);
  });
}
