// Deepgram live STT with audio that carries no byte rate: containerised audio (no `encoding`,
// a WAV stream here) is measured by tollgate's audio parser as it passes; a compressed raw
// encoding (`opus`) bills Deepgram's final `Metadata.duration`. While it streams, the audio is
// held against the budget at the reservation rate; the final settle charges the measurement.

import t, { type Test } from 'tap';
import { WebSocket } from 'ws';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';
import { wavBytes } from '../../voice-audio-fixtures.js';
import { warmAudioParsers } from '../../../proxy/meters/audio.js';

async function session(t: Test, query: string, audio: Buffer): Promise<{ credits: number; reported?: number }> {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const ws = new WebSocket(`${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/listen?${query}`, { headers: { authorization: `Token ${TEST_KEY}` } });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  for (let i = 0; i < audio.length; i += 4_000) ws.send(audio.subarray(i, i + 4_000));
  ws.send(JSON.stringify({ type: 'CloseStream' }));
  await new Promise((r) => ws.once('close', r));
  t.equal(dg.connections[0]!.bytes, audio.length, 'every byte reached the provider');
  await until(async () => tg.app.realtime.open() === 0 && (await tg.usage()).reserved === 0, 'settled');
  return { credits: (await tg.usage()).credits.used };
}

t.test('a WAV stream (no encoding): 10 s measured by the parser = 1.5 credits', async (t) => {
  await warmAudioParsers();
  const wav = wavBytes(10_000);
  const r = await session(t, 'model=nova-3', wav);
  t.equal(r.credits, 1.5);
});

t.test('opus (no byte rate, no container parser): Deepgram\'s Metadata.duration bills', async (t) => {
  // The fake reports bytes ÷ 32,000 seconds: 64,000 bytes → 2 s → 0.3 credits.
  const r = await session(t, 'model=nova-3&encoding=opus&sample_rate=16000', Buffer.alloc(64_000, 3));
  t.equal(r.credits, 0.3);
});
