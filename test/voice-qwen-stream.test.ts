import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const dir = new URL('../../test/fixtures/qwen/', import.meta.url);
const stream = readFileSync(new URL('generation-stream.sse', dir));
const request = JSON.parse(readFileSync(new URL('generation-request.json', dir), 'utf8')) as unknown;

t.test('qwen TTS with X-DashScope-SSE: events pass through unchanged, 44 code points = 0.176 credits, the last usage is recorded', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8' });
    for (let i = 0; i < stream.length; i += 500) {
      res.write(stream.subarray(i, i + 500));
      await new Promise((r) => setTimeout(r, 1));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { qwen: { baseUrl: up.url, apiKey: 'sk-dashscope' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const r = await fetch(`${tg.base('qwen')}/api/v1/services/aigc/multimodal-generation/generation`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'x-dashscope-sse': 'enable' },
    body: JSON.stringify(request),
  });
  t.equal(r.status, 200);
  const got = Buffer.from(await r.arrayBuffer());
  t.ok(got.equals(stream), 'the client receives the events unchanged');
  t.equal(up.requests[0]!.headers['x-dashscope-sse'], 'enable', 'the streaming header reaches DashScope');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0.176);
  t.equal(u.breakdown.tts, 0.176);
  t.equal(settled[0]!.units.chars, 44);
  t.same(settled[0]!.reported, { chars: 67 });
});
