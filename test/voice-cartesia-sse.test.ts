import t from 'tap';
import Cartesia from '@cartesia/cartesia-js';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { fixture, settledLog } from './voice-audio-fixtures.js';

t.test('Cartesia /tts/sse through the SDK: events stream through, chars × 78 / 1,000', async (t) => {
  const events = fixture('cartesia/tts-sse.txt').toString().split('\n\n').filter((e) => e.trim() !== '');
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const e of events) {
      res.write(`${e}\n\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  const log = settledLog();
  const tg = await startTollgate({ providers: { cartesia: { baseUrl: up.url, apiKey: 'sk_car_platform' } } }, { tier: 'free', events: log.events });
  t.teardown(async () => { await tg.close(); await up.close(); });
  const client = new Cartesia({ apiKey: TEST_KEY, baseURL: tg.base('cartesia'), maxRetries: 0 });

  const stream = await client.tts.generateSSE({
    model_id: 'sonic-3',
    transcript: 'Hello, world! 👋',
    voice: { mode: 'id', id: 'a0e99841-438c-4a64-b679-ae501e7d6091' },
    output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
    add_timestamps: true,
  });
  const types: string[] = [];
  for await (const ev of stream) types.push(ev.type);
  t.same(types, ['chunk', 'chunk', 'timestamps', 'done']);
  t.equal(up.requests[0]!.path, '/tts/sse');
  await tg.app.pipeline.idle(2000);
  // 15 code points × 78 / 1,000 = 1.17 credits
  t.equal((await tg.usage()).breakdown.tts, 1.17);
  t.match(log.records[0], { units: { chars: 15 }, microCredits: 1_170_000 });
});
