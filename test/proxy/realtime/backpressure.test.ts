// Backpressure through a realtime session: a provider that stops reading pauses the client's
// socket at tollgate (nothing is buffered without bound in between): the client's own send
// buffer fills instead; when the provider reads again every byte arrives and is counted.
// A BYOK session, so that no reservation ever pauses the client: only backpressure can.

import t from 'tap';
import { WebSocket } from 'ws';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { setReading, startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

t.test('a provider that stops reading stops tollgate reading the client; all bytes arrive later', async (t) => {
  const dg = await startFakeDeepgram({ key: 'dg-customer-own' });
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'scale' });
  t.teardown(() => tg.close());
  const ws = new WebSocket(`${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000`, { headers: { authorization: `Token ${TEST_KEY}`, 'x-provider-key-deepgram': 'dg-customer-own' } });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  await until(() => dg.connections.length === 1, 'the provider socket');
  const c = dg.connections[0]!;
  setReading(c, false);
  const frame = Buffer.alloc(32_000, 7); // 1 s of audio
  const total = 64 * 1024 * 1024;
  const frames = Math.ceil(total / frame.length);
  for (let i = 0; i < frames; i++) ws.send(frame);
  // Loopback socket buffers hold a few MB per hop; tollgate holds at most its high-water mark.
  // Without backpressure tollgate reads on and the client's buffer drains within seconds.
  let least = Infinity;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 500));
    least = Math.min(least, ws.bufferedAmount);
  }
  t.ok(least > 32 * 1024 * 1024, `for 10 s most of the 64 MB stayed in the client's send buffer (at least ${(least / 2 ** 20).toFixed(1)} MB): tollgate stopped reading`);
  t.ok(c.bytes < total / 2);
  setReading(c, true);
  await until(() => c.bytes === frames * frame.length, 'every byte reached the provider', 60_000);
  t.equal(ws.bufferedAmount, 0);
  ws.close();
  await until(async () => tg.app.realtime.open() === 0 && (await tg.usage()).byok.requestCount > 0, 'settled');
  t.equal((await tg.usage()).byok.usage.stt.seconds, frames, `${frames} s of audio counted`);
});
