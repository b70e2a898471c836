// Makes docs/img/dashboard-overview.png for the README: a tollgate on the memory ledger whose
// clock starts 29 days back, a month of varied traffic through local stand-in providers, then
// headless Chromium (Debian's /usr/bin/chromium) logs in and shoots the overview.
// Run after a build: node scripts/dashboard-screenshot.mjs
import { mkdirSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { startUpstream, json } from '../dist/test/helpers/upstream.js';
import { startTollgate, ADMIN_TOKEN } from '../dist/test/helpers/tollgate.js';

const DAY = 86_400_000;
const keys = { acme: 'tg_acme_Q7x9Kp2Lm4Nv8Rt6Yw3Za5Bc1De0Fg', globex: 'tg_globex_R8y0Lq3Mn5Ow9Su7Zx4Ab6Cd2Ef1G', initech: 'tg_initech_S9z1Mr4No6Px0Tv8Ay5Bc7De3Fg2' };
const openai = await startUpstream((req, res) => {
  const b = JSON.parse(req.body.toString());
  const n = b.messages[0].content.length;
  json(res, 200, { id: 'c', object: 'chat.completion', model: b.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 400 * n, completion_tokens: 120 * n, total_tokens: 520 * n } });
});
const kokoro = await startUpstream((_req, res) => res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(500, 0xff)])));
let offset = -29 * DAY;
const tg = await startTollgate(
  {
    providers: { openai: { baseUrl: openai.url, apiKey: 'sk-platform' }, kokoro: { baseUrl: kokoro.url } },
    accounts: [
      { id: 'acme', tier: 'pro', apiKeys: [keys.acme] },
      { id: 'globex', tier: 'starter', apiKeys: [keys.globex] },
      { id: 'initech', tier: 'free', apiKeys: [keys.initech] },
    ],
  },
  { clock: { now: () => Date.now() + offset } },
);
const post = (url, key, body) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
const chat = (key, model, n) => post(`${tg.base('openai')}/v1/chat/completions`, key, { model, messages: [{ role: 'user', content: 'x'.repeat(n) }] });
const speak = (key, chars) => post(`${tg.base('kokoro')}/v1/audio/speech`, key, { model: 'kokoro', voice: 'af_bella', input: 'k'.repeat(chars) });
for (let d = 0; d < 30; d++) {
  offset = -(29 - d) * DAY;
  const wave = 1 + Math.sin(d / 3);
  for (let i = 0; i < 2 + Math.round(wave * 2); i++) await chat(keys.acme, 'gpt-4.1', 3 + (d % 4));
  for (let i = 0; i < 1 + (d % 3); i++) await chat(keys.globex, 'gpt-4.1-mini', 4);
  await speak(keys.globex, 2000 + 300 * (d % 5));
  if (d % 2 === 0) await speak(keys.initech, 1500);
  if (d > 20) await chat(keys.initech, 'gpt-4.1-nano', 2);
}
offset = 0;
await tg.app.pipeline.idle(5000);

const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const page = await browser.newPage();
await page.setViewport({ width: 1000, height: 1100 });
await page.goto(`${tg.adminUrl}/dashboard/login`);
await page.type('#token', ADMIN_TOKEN);
await Promise.all([page.waitForNavigation(), page.click('form.login button')]);
await page.waitForSelector('html[data-charts]');
mkdirSync('docs/img', { recursive: true });
await page.screenshot({ path: 'docs/img/dashboard-overview.png', clip: { x: 0, y: 0, width: 1000, height: 1100 } });
await browser.close();
await tg.close();
await openai.close();
await kokoro.close();
console.log('docs/img/dashboard-overview.png');
