import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixture = (name: string): string => readFileSync(new URL(`../../test/fixtures/resemble/${name}`, import.meta.url), 'utf8');

t.test('resemble /synthesize: 1,000 code points (emoji included) = 120 credits; the reported duration is recorded', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, JSON.parse(fixture('synthesize-response.json'))));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { resemble: { baseUrl: up.url, apiKey: 'rs-platform' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const text = 'a'.repeat(990) + '😀'.repeat(10); // 1,000 code points, 1,010 UTF-16 units
  const body = { ...JSON.parse(fixture('synthesize-request.json')), data: text };
  const r = await fetch(`${tg.base('resemble')}/synthesize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  t.equal(r.status, 200);
  const answer = (await r.json()) as { success: boolean; duration: number };
  t.equal(answer.success, true);
  t.equal(answer.duration, 61.5, 'the answer passes through unchanged');

  const seen = up.requests[0]!;
  t.equal(seen.path, '/synthesize');
  t.equal(seen.headers.authorization, 'Bearer rs-platform');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, 'the customer key never reaches Resemble');
  t.equal(JSON.parse(seen.body.toString()).data, text);

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 120);
  t.equal(u.breakdown.tts, 120);
  t.equal(u.requestCount, 1);
  t.equal(settled[0]!.units.chars, 1000);
  t.same(settled[0]!.reported, { audioMs: 61500 });
  t.equal(settled[0]!.source, 'request');
});
