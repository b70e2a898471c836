import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixture = (name: string): any => JSON.parse(readFileSync(new URL(`../../test/fixtures/qwen/${name}`, import.meta.url), 'utf8'));
const PATH = '/api/v1/services/aigc/multimodal-generation/generation';

t.test("qwen TTS: 44 code points (23 of them CJK) = 0.176 credits; DashScope's CJK-doubled count (67) is recorded, not billed", async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixture('generation-response.json')));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { qwen: { baseUrl: up.url, apiKey: 'sk-dashscope' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const request = fixture('generation-request.json');
  t.equal([...request.input.text].length, 44);
  const r = await fetch(`${tg.base('qwen')}${PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  t.equal(r.status, 200);
  const answer = (await r.json()) as { output: { audio: { url: string } }; usage: { characters: number } };
  t.match(answer.output.audio.url, /^http:\/\/dashscope-result/);
  t.equal(answer.usage.characters, 67);

  const seen = up.requests[0]!;
  t.equal(seen.path, PATH);
  t.equal(seen.headers.authorization, 'Bearer sk-dashscope');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, 'the customer key never reaches DashScope');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0.176, '44 × 4 / 1,000');
  t.equal(u.breakdown.tts, 0.176);
  t.equal(settled[0]!.units.chars, 44);
  t.same(settled[0]!.reported, { chars: 67 });
  t.equal(settled[0]!.model, 'qwen3-tts-flash');
});
