// A real browser: headless Chromium (Debian's /usr/bin/chromium driven by puppeteer-core, no
// download) opens a Deepgram live socket through tollgate with the `['token', KEY]`
// subprotocol, as Deepgram's SDK does in browsers, and streams 10 s of 16 kHz linear16 sine.
// The 101 must select `token` (else Chromium fails the handshake); the key never goes upstream;
// exactly 320,000 bytes reach the provider and 1.5 credits are billed.

import t from 'tap';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer from 'puppeteer-core';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

t.test('Chromium streams 10 s over the token subprotocol: 320,000 bytes, 1.5 credits', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  // The page's own origin (a local server), so nothing about the socket is special-cased.
  const page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>voice</title>'));
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => page.close(r)));

  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.teardown(() => browser.close());
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${(page.address() as AddressInfo).port}/`);
  const url = `${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1`;
  const result = await tab.evaluate(
    async (url: string, key: string) => {
      const ws = new WebSocket(url, ['token', key]);
      ws.binaryType = 'arraybuffer';
      const results: string[] = [];
      ws.onmessage = (e) => results.push(JSON.parse(e.data as string).type);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('the socket failed to open'));
      });
      const rate = 16000;
      const pcm = new Int16Array(rate * 10);
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000);
      const bytes = new Uint8Array(pcm.buffer);
      for (let i = 0; i < bytes.length; i += 3200) ws.send(bytes.slice(i, i + 3200));
      ws.send(JSON.stringify({ type: 'CloseStream' }));
      const close = await new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
      return { protocol: ws.protocol, close, results };
    },
    url,
    TEST_KEY,
  );
  t.equal(result.protocol, 'token', "the 101 selected 'token'");
  t.same(result.close, { code: 1000, reason: '' });
  t.equal(result.results.filter((x) => x === 'Results').length, 10);
  t.equal(result.results[result.results.length - 1], 'Metadata');
  const c = dg.connections[0]!;
  t.equal(c.bytes, 320_000, 'exactly 10 s of audio reached the provider');
  t.equal(c.protocols, '', 'no subprotocol (and so not the key) went upstream');
  t.notOk(JSON.stringify(c.headers).includes(TEST_KEY) || c.url.includes(TEST_KEY), 'the key never reached the provider');
  t.equal(c.headers.origin, undefined, "the page's origin is not forwarded");
  await until(async () => tg.app.realtime.open() === 0 && (await tg.usage()).reserved === 0, 'settled');
  t.equal((await tg.usage()).credits.used, 1.5, '10 s = 1.5 credits');
});
