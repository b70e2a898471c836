import t from 'tap';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { warmAudioParsers } from '../proxy/meters/audio.js';
import { fixtureJson, pcmBytes, settledLog, wavHeader } from './voice-audio-fixtures.js';

// A 51 MB upload streams through tollgate: generated here chunk by chunk, drained by the fake
// upstream without keeping it, measured on the way. tollgate must not hold the file.
const SECONDS = Number(process.env.VOICE_LARGE_SECONDS ?? 1_600);
const DATA = 32_000 * SECONDS; // 16 kHz mono 16-bit

// The parsers load when tollgate starts; a test process reaches its first upload sooner than
// any server would, so it waits for them (under tap's loader hooks that takes a while).
t.before(() => warmAudioParsers());

function wavStream(): Readable {
  const block = pcmBytes(1_000); // one second, 32,000 bytes, reused
  let sent = 0;
  let headerSent = false;
  return new Readable({
    read() {
      if (!headerSent) {
        headerSent = true;
        this.push(wavHeader(DATA));
        return;
      }
      if (sent >= SECONDS) {
        this.push(null);
        return;
      }
      sent++;
      this.push(Buffer.from(block)); // a fresh buffer each time, as a socket would deliver
    },
  });
}

t.test('a 51 MB WAV (VOICE_LARGE_SECONDS=16384: 524 MB) streams to Deepgram with RSS growth under 64 MB, measured exactly', async (t) => {
  let received = 0;
  const answer = { ...fixtureJson<{ metadata: object }>('deepgram/listen-response.json'), metadata: { duration: SECONDS } };
  const up = await startUpstream(() => {}, {
    // Drain the body without keeping it, then answer.
    onRequest(req, res) {
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => json(res, 200, answer));
      return true;
    },
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });

  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${tg.base('deepgram')}/v1/listen?model=nova-3`, {
      method: 'POST',
      headers: { authorization: `Token ${TEST_KEY}`, 'content-type': 'audio/wav', 'content-length': String(44 + DATA) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    wavStream().pipe(req);
  });
  clearInterval(sampler);
  t.equal(status, 200);
  t.equal(received, 44 + DATA, 'every byte reached the provider');
  const growth = rssPeak - rssBefore;
  t.ok(growth < 64 * 1024 * 1024, `peak RSS growth ${(growth / 1048576).toFixed(1)} MB for a ${(DATA / 1048576).toFixed(1)} MB upload`);

  await tg.app.pipeline.idle(5000);
  t.match(log.records[0], { units: { audioMs: SECONDS * 1000 }, source: 'measured', microCredits: SECONDS * 150_000 });
  t.equal((await tg.usage()).breakdown.stt, (SECONDS * 9) / 60, 'seconds × 9 / 60');
});

t.test('the same through a multipart upload (ElevenLabs Scribe): busboy streams the file part', async (t) => {
  let received = 0;
  const up = await startUpstream(() => {}, {
    onRequest(req, res) {
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => json(res, 200, { text: '', audio_duration_secs: SECONDS }));
      return true;
    },
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: up.url, apiKey: 'xi-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });

  const boundary = 'large-upload-boundary-5f1e';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model_id"\r\n\r\nscribe_v1\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const total = head.length + 44 + DATA + tail.length;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${tg.base('elevenlabs')}/v1/speech-to-text`, {
      method: 'POST',
      headers: { 'xi-api-key': TEST_KEY, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(total) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(head);
    const body = wavStream();
    body.on('end', () => req.end(tail));
    body.pipe(req, { end: false });
  });
  clearInterval(sampler);
  t.equal(status, 200);
  t.equal(received, total);
  const growth = rssPeak - rssBefore;
  t.ok(growth < 64 * 1024 * 1024, `peak RSS growth ${(growth / 1048576).toFixed(1)} MB for a ${(total / 1048576).toFixed(1)} MB upload`);
  await tg.app.pipeline.idle(5000);
  t.match(log.records[0], { units: { audioMs: SECONDS * 1000 }, source: 'measured', microCredits: SECONDS * 100_000 });
});
