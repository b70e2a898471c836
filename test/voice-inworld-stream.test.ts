import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const dir = new URL('../../test/fixtures/inworld/', import.meta.url);
const ndjson = readFileSync(new URL('voice-stream.ndjson', dir));
const request = JSON.parse(readFileSync(new URL('voice-request.json', dir), 'utf8')) as Record<string, unknown>;

t.test('inworld /tts/v1/voice:stream: NDJSON passes through byte for byte, 64 code points = 5.12 credits, the first line\'s count is recorded', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // Small, odd-sized writes: the usage field straddles chunk boundaries.
    for (let i = 0; i < ndjson.length; i += 13) {
      res.write(ndjson.subarray(i, i + 13));
      if (i % 1300 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { inworld: { baseUrl: up.url, apiKey: 'aW53b3JsZDpzZWNyZXQ=' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const r = await fetch(`${tg.base('inworld')}/tts/v1/voice:stream`, {
    method: 'POST',
    headers: { authorization: `Basic ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  t.equal(r.status, 200);
  const got = Buffer.from(await r.arrayBuffer());
  t.ok(got.equals(ndjson), 'the client receives the stream unchanged');
  const lines = got.toString().trim().split('\n').map((l) => JSON.parse(l) as { result: { usage: { processedCharactersCount: number } } });
  t.same(lines.map((l) => l.result.usage.processedCharactersCount), [64, 0, 0]);
  t.equal(up.requests[0]!.path, '/tts/v1/voice:stream');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 5.12);
  t.equal(u.breakdown.tts, 5.12);
  t.equal(settled[0]!.units.chars, 64);
  t.same(settled[0]!.reported, { chars: 64 });
});
