// `tollgate demo` / `npm run demo`: starts tollgate (in-memory ledger) in front of local stand-in
// providers and walks through a TTS call, an STT call, an LLM stream and a BYOK call, printing
// the account's /v1/usage after each. Needs no provider account and no Redis; exits 0.

import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { validateConfig } from '../../config/load.js';
import { createApp, type App } from '../app.js';
import { generateApiKey } from '../keys.js';
import { ADAPTERS } from '../providers/index.js';
import { createRegistry } from '../registry.js';
import { makeWav, startStandIns } from './providers.js';

interface Call {
  provider: string;
  path: string;
  /** How the provider's SDK sends the key. */
  auth: (key: string) => Record<string, string>;
  body: () => { body: NonNullable<RequestInit['body']>; contentType?: string };
}

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const TTS_TEXT = 'Welcome to tollgate. Every character of this sentence is counted before the provider speaks it.';
const STT_SECONDS = 30;

const json = (v: unknown) => () => ({ body: JSON.stringify(v), contentType: 'application/json' });
const transcription = (model: string) => () => {
  const form = new FormData();
  form.append('model', model);
  form.append('file', new Blob([makeWav(STT_SECONDS)], { type: 'audio/wav' }), 'hello.wav');
  return { body: form };
};

// The first of each list whose adapter this build has is used (the voice adapters come and go
// by provider; the demo shows whichever is there).
const TTS: Call[] = [
  { provider: 'elevenlabs', path: '/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM', auth: (k) => ({ 'xi-api-key': k }), body: json({ text: TTS_TEXT, model_id: 'eleven_multilingual_v2' }) },
  { provider: 'kokoro', path: '/v1/audio/speech', auth: bearer, body: json({ model: 'kokoro', input: TTS_TEXT, voice: 'af_heart', response_format: 'mp3', stream: false }) },
  { provider: 'openai', path: '/v1/audio/speech', auth: bearer, body: json({ model: 'tts-1', input: TTS_TEXT, voice: 'alloy' }) },
];
const STT: Call[] = [
  { provider: 'openai', path: '/v1/audio/transcriptions', auth: bearer, body: transcription('whisper-1') },
  { provider: 'whisper', path: '/v1/audio/transcriptions', auth: bearer, body: transcription('whisper-1') },
  { provider: 'deepgram', path: '/v1/listen?model=nova-3', auth: (k) => ({ authorization: `Token ${k}` }), body: () => ({ body: new Blob([makeWav(STT_SECONDS)]), contentType: 'audio/wav' }) },
];
const LLM_BODY = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say hello to a newcomer.' }] };

export async function runDemo(out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const say = (s = '') => out(`${s}\n`);
  const standIns = await startStandIns();
  const demoKey = generateApiKey();
  const providers: Record<string, { baseUrl: string; apiKey: string }> = {};
  for (const id of ['openai', 'elevenlabs', 'kokoro', 'whisper', 'deepgram']) providers[id] = { baseUrl: standIns.url, apiKey: 'sk-platform-demo' };
  const config = validateConfig(
    {
      proxy: { port: 0 },
      admin: { port: 0 },
      logging: { level: 'silent' },
      accounts: [{ id: 'demo', tier: 'free', apiKeys: [demoKey] }],
      providers,
      byok: { masterKey: randomBytes(32).toString('base64') },
    },
    {},
    'demo',
  );
  let app: App | undefined;
  try {
    app = await createApp({ config, logger: pino({ level: 'silent' }) });
    const { proxyUrl, adminUrl } = await app.listen();
    const registry = createRegistry(ADAPTERS, {});
    const metered = (c: Call) => {
      const m = registry.get(c.provider)?.match('POST', c.path.split('?')[0]!);
      return m !== undefined && !m.route.free;
    };
    const a = app;
    const usage = async () => {
      await a.pipeline.idle(5_000);
      const r = await fetch(`${adminUrl}/v1/usage`, { headers: bearer(demoKey) });
      const u = (await r.json()) as { credits: unknown; breakdown: unknown; requestCount: number; byok: { requestCount: number } };
      say(`   GET /v1/usage → ${JSON.stringify({ credits: u.credits, breakdown: u.breakdown, requestCount: u.requestCount, byok: { requestCount: u.byok.requestCount } })}`);
      say();
    };
    const send = async (c: Call, extra: Record<string, string> = {}) => {
      const { body, contentType } = c.body();
      const r = await fetch(`${proxyUrl}/${c.provider}${c.path}`, {
        method: 'POST',
        headers: { ...c.auth(demoKey), ...(contentType ? { 'content-type': contentType } : {}), ...extra },
        body,
      });
      if (!r.ok) throw new Error(`POST /${c.provider}${c.path} answered ${r.status}: ${await r.text()}`);
      return r;
    };

    say('tollgate demo: a metering proxy in front of AI providers (here: local stand-ins).');
    say(`  proxy ${proxyUrl}   admin ${adminUrl}   ledger: ${app.ledger.kind}`);
    say(`  account "demo" on the Free tier (2,500 credits a month; 1 credit = $0.001), key ${demoKey}`);
    say('  Each call below goes to http://PROXY/{provider}/{the provider\'s own path} with the tollgate key');
    say('  where the provider\'s SDK puts its API key; tollgate swaps in the platform key.');
    say();

    // 1. TTS: characters of the text, known before the call, reserved against the Free cap.
    const tts = TTS.find(metered);
    if (tts) {
      say(`1. Text-to-speech on ${tts.provider}: ${[...TTS_TEXT].length} characters`);
      const r = await send(tts);
      say(`   POST /${tts.provider}${tts.path} → ${r.status}, ${(await r.arrayBuffer()).byteLength} bytes of ${r.headers.get('content-type')}`);
      say('   billed: characters × the provider\'s rate per 1,000 characters');
      await usage();
    } else say('1. Text-to-speech: skipped (no TTS adapter in this build)\n');

    // 2. STT: seconds of audio, measured by tollgate from the upload as it streams through.
    const stt = STT.find(metered);
    if (stt) {
      say(`2. Speech-to-text on ${stt.provider}: a ${STT_SECONDS}-second WAV upload`);
      const r = await send(stt);
      say(`   POST /${stt.provider}${stt.path} → ${r.status}: ${(await r.text()).slice(0, 120)}`);
      say('   billed: seconds of audio × the rate per minute / 60');
      await usage();
    } else say('2. Speech-to-text: skipped (no STT adapter in this build)\n');

    // 3. LLM stream: tokens as the provider reports them in the stream's usage chunk (which
    //    tollgate asks for and hides from the client).
    say('3. LLM stream on openai (gpt-4.1-mini):');
    const llm: Call = { provider: 'openai', path: '/v1/chat/completions', auth: bearer, body: json({ ...LLM_BODY, stream: true }) };
    const r = await send(llm);
    out('   ');
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = ev.startsWith('data: ') ? ev.slice(6) : '';
        if (!data || data === '[DONE]') continue;
        const delta = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
        if (delta) out(delta);
      }
    }
    say();
    say('   billed: input tokens × input rate / 1,000 + output tokens × output rate / 1,000');
    await usage();

    // 4. BYOK: the customer's own provider key, stored (encrypted) once; costs zero credits and
    //    still counts as a request (under `byok` in /v1/usage).
    say('4. BYOK: store your own OpenAI key with tollgate, then call as before');
    const put = await fetch(`${adminUrl}/v1/provider-keys/openai`, {
      method: 'PUT',
      headers: { ...bearer(demoKey), 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'sk-your-own-openai-key-4242' }),
    });
    say(`   PUT /v1/provider-keys/openai → ${put.status} ${await put.text()}   (sealed with AES-256-GCM)`);
    const byok = await send({ ...llm, body: json(LLM_BODY) });
    const answer = (await byok.json()) as { choices: Array<{ message: { content: string } }> };
    say(`   POST /openai/v1/chat/completions → ${byok.status}: ${answer.choices[0]!.message.content}`);
    say('   billed: 0 credits (the provider bills your key); a header X-Provider-Key-OpenAI does the same per request');
    await usage();

    say('Done. Next: `npm start` for the real thing, and the README for config, accounts and keys.');
    return 0;
  } catch (err) {
    out(`\ndemo failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await app?.close(2_000);
    await standIns.close();
  }
}
