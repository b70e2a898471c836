import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, type Upstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY, type TestTollgate } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const request = JSON.parse(readFileSync(new URL('../../test/fixtures/kokoro/speech-request.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** tollgate in front of `up` as the kokoro provider, with every settlement recorded. */
async function kokoroTollgate(t: Test, up: Upstream) {
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { kokoro: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  return { tg, settled };
}

const speak = (tg: TestTollgate, body: Record<string, unknown>) =>
  fetch(`${tg.base('kokoro')}/v1/audio/speech`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

t.test('kokoro streamed speech: audio chunks pass as they come; SSML and pause tags are not counted; 250 code points = 1 credit', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'x-accel-buffering': 'no' });
    for (let i = 0; i < 4; i++) {
      res.write(Buffer.alloc(1024, i + 1));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  const { tg, settled } = await kokoroTollgate(t, up);
  // Spoken: 'Hi & bye. ' (10) + 240 × 'ü' = 250 code points.
  const input = `<speak>Hi &amp; bye. [pause:0.5s]<break time="1s"/>${'ü'.repeat(240)}</speak>`;
  const r = await speak(tg, { ...request, input, ssml: true, allow_voice_tags: true });
  t.equal(r.status, 200);
  const sizes: number[] = [];
  for await (const c of r.body as AsyncIterable<Uint8Array>) sizes.push(c.length);
  t.equal(sizes.reduce((a, b) => a + b, 0), 4096, 'every streamed byte arrives');
  t.equal(JSON.parse(up.requests[0]!.body.toString()).stream, true);

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 1, '250 × 4 / 1,000');
  t.equal(settled[0]!.units.chars, 250);
});

t.test('a slow client holds the provider back: tollgate pauses the upstream read instead of buffering the answer', async (t) => {
  const TOTAL = 64 * 1024 * 1024;
  const block = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(TOTAL) });
    while (sent < TOTAL) {
      const ok = res.write(block);
      sent += block.length;
      if (!ok) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });
  const { tg, settled } = await kokoroTollgate(t, up);
  const r = await speak(tg, { ...request, input: 'x'.repeat(250) });
  t.equal(r.status, 200);
  // The client reads nothing for a while: only socket buffers (a few MB) may fill up.
  await new Promise((res) => setTimeout(res, 1000));
  const whilePaused = sent;
  t.ok(whilePaused < 16 * 1024 * 1024, `the provider wrote ${(whilePaused / 1048576).toFixed(1)} MB of 64 MB while the client read nothing`);
  let received = 0;
  for await (const c of r.body as AsyncIterable<Uint8Array>) received += c.length;
  t.equal(received, TOTAL, 'then every byte arrives');
  await tg.app.pipeline.idle(2000);
  t.equal(settled.length, 1);
  t.equal(settled[0]!.outcome, 'ok');
  t.equal(settled[0]!.units.chars, 250);
  t.equal((await tg.usage()).credits.used, 1);
});
