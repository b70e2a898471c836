import t from 'tap';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

/** A streamed WAV as Resemble's /stream sends it: header with an open-ended data size, then PCM. */
function wavHeader(sampleRate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(0xffffffff, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(0xffffffff, 40);
  return h;
}

t.test('resemble /stream: SSML is counted by its spoken text, 500 code points = 60 credits, audio streams through', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.write(wavHeader(22050));
    for (let i = 0; i < 5; i++) {
      res.write(Buffer.alloc(4410, i));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { resemble: { baseUrl: up.url, apiKey: 'rs-platform' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  // Spoken: 'Hello & welcome. ' (17) + 483 × 'é' = 500 code points; the markup is not spoken.
  const ssml = `<speak><prosody rate="slow">Hello &amp; welcome.</prosody> <break time="300ms"/>${'é'.repeat(483)}</speak>`;
  const r = await fetch(`${tg.base('resemble')}/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ voice_uuid: '55592656', project_uuid: '3f2b1c9e', data: ssml, precision: 'PCM_16', sample_rate: 22050 }),
  });
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-type'), 'audio/wav');
  const audio = Buffer.from(await r.arrayBuffer());
  t.equal(audio.length, 44 + 5 * 4410, 'every audio byte reaches the client');
  t.equal(audio.toString('latin1', 0, 4), 'RIFF');
  t.equal(up.requests[0]!.headers.authorization, 'Bearer rs-platform');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 60);
  t.equal(u.breakdown.tts, 60);
  t.equal(settled[0]!.units.chars, 500);
  t.equal(settled[0]!.reported, undefined, '/stream reports nothing');
});
