import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/inworld/${name}`, import.meta.url), 'utf8'));

t.test('inworld /tts/v1/voice: 64 code points = 5.12 credits; processedCharactersCount is recorded beside them', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixture('voice-response.json')));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { inworld: { baseUrl: up.url, apiKey: 'aW53b3JsZDpzZWNyZXQ=' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  // As Inworld's examples call it: Authorization: Basic <key>.
  const r = await fetch(`${tg.base('inworld')}/tts/v1/voice`, {
    method: 'POST',
    headers: { authorization: `Basic ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(fixture('voice-request.json')),
  });
  t.equal(r.status, 200);
  const answer = (await r.json()) as { audioContent: string; usage: { processedCharactersCount: number } };
  t.equal(Buffer.from(answer.audioContent, 'base64').toString('latin1', 0, 4), 'RIFF');
  t.equal(answer.usage.processedCharactersCount, 64);

  const seen = up.requests[0]!;
  t.equal(seen.path, '/tts/v1/voice');
  t.equal(seen.headers.authorization, 'Basic aW53b3JsZDpzZWNyZXQ=');
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, 'the customer key never reaches Inworld');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 5.12, '64 × 80 / 1,000');
  t.equal(u.breakdown.tts, 5.12);
  t.equal(settled[0]!.units.chars, 64);
  t.same(settled[0]!.reported, { chars: 64 });
  t.equal(settled[0]!.model, 'inworld-tts-1.5-max');
});
