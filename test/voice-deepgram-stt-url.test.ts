import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, settledLog } from './voice-audio-fixtures.js';

// Audio by URL: only Deepgram's answer knows the length. Its metadata.duration is read from the
// JSON as it streams back (field capture, the body is never held), here split across writes.
t.test('Deepgram {"url"}: metadata.duration (25.933313 s) prices it, read from the streamed answer', async (t) => {
  const body = fixture('deepgram/listen-url-response.json');
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (let i = 0; i < body.length; i += 97) {
      res.write(body.subarray(i, i + 97));
      await new Promise((r) => setTimeout(r, 1));
    }
    res.end();
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } }, { tier: 'starter', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.base('deepgram') });

  const r = await client.listen.v1.media.transcribeUrl({ url: 'https://dpgr.am/spacewalk.wav', model: 'nova-3' });
  t.match(r, { metadata: { duration: 25.933313 } });
  t.same(JSON.parse(up.requests[0]!.body.toString()), { url: 'https://dpgr.am/spacewalk.wav' });
  await tg.app.pipeline.idle(2000);
  // 25,933 ms × 9 credits / 60,000 ms = 3.88995 credits
  t.match(log.records[0], { units: { audioMs: 25_933 }, microCredits: 3_889_950, source: 'provider', reported: { audioMs: 25_933 } });
  t.equal((await tg.usage()).breakdown.stt, 3.88995);
});
