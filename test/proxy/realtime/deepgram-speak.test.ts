// Deepgram streaming TTS (`/v1/speak`) through tollgate with @deepgram/sdk (speak v1): code
// points of `Speak.text` at the seed's Deepgram TTS row (30 credits per 1,000 characters), an
// emoji counting once; a Free account is cut at the exact code point its credits cover, gets
// a `Warning` frame and close 4402.

import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { startFakeDeepgram, until } from '../../helpers/realtime/deepgram.js';

const CREDIT = 1_000_000;

async function speakSocket(proxyUrl: string) {
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: proxyUrl.replace('http', 'ws') + '/deepgram' });
  const socket = await client.speak.v1.connect({ model: 'aura-2-thalia-en', encoding: 'linear16', sample_rate: '24000', Authorization: '', reconnectAttempts: 0 });
  const messages: unknown[] = [];
  socket.on('message', (m) => messages.push(m));
  const closed = new Promise<{ code: number; reason: string }>((r) => socket.socket.addEventListener('close', (e) => r({ code: e.code, reason: e.reason })));
  socket.connect();
  await socket.waitForOpen();
  return { socket, messages, closed };
}

t.test('1,000 code points (emoji included) = 30 credits; Flush/Close pass as text', async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'starter' });
  t.teardown(() => tg.close());
  const { socket, messages, closed } = await speakSocket(tg.proxyUrl);
  const part = 'Hello 👋 world! '; // 15 code points, 16 UTF-16 units
  t.equal([...part].length, 15);
  const text = part.repeat(66) + 'abcdefghij'; // 990 + 10 = 1,000 code points
  socket.sendText({ type: 'Speak', text: text.slice(0, 500) });
  socket.sendText({ type: 'Speak', text: text.slice(500) });
  socket.sendFlush({ type: 'Flush' });
  await until(() => messages.some((m) => (m as { type?: string }).type === 'Flushed'), 'Flushed');
  socket.sendClose({ type: 'Close' });
  t.same(await closed, { code: 1000, reason: '' });
  await until(async () => tg.app.realtime.open() === 0 && (await tg.usage()).reserved === 0, 'settled');
  const u = await tg.usage();
  t.equal(u.credits.used, 30, '1,000 code points at 30 credits per 1,000');
  t.equal(u.breakdown.tts, 30);
  const c = dg.connections[0]!;
  t.same(c.texts.map((x) => JSON.parse(x).type), ['Speak', 'Speak', 'Flush', 'Close']);
  t.equal(c.texts.map((x) => JSON.parse(x).text ?? '').join(''), text, 'the text reached the provider unchanged');
});

t.test('Free with 0.3 credits left: the provider gets exactly 10 code points; Warning, then 4402', async (t) => {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const tg = await startTollgate({ providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  await tg.app.ledger.settle({ accountId: 'acct', requestId: 'earlier', modality: 'llm', provider: 'openai', byok: false, microCredits: 2_499.7 * CREDIT, units: {}, outcome: 'ok' });
  const { socket, messages, closed } = await speakSocket(tg.proxyUrl);
  socket.sendText({ type: 'Speak', text: 'ab👋cd' }); // 5 code points: fits
  socket.sendText({ type: 'Speak', text: 'ef👋ghijklmnop' }); // only 5 more are covered
  t.same(await closed, { code: 4402, reason: 'insufficient_credits' });
  await until(() => dg.connections[0]?.closed !== undefined, 'provider side closed');
  const sent = dg.connections[0]!.texts.map((x) => JSON.parse(x) as { type: string; text: string });
  t.same(sent, [{ type: 'Speak', text: 'ab👋cd' }, { type: 'Speak', text: 'ef👋gh' }], 'cut at the exact code point; the emoji is never split');
  t.match(messages[messages.length - 1], { type: 'Warning', code: 'insufficient_credits' }, "the client got Deepgram's Warning frame first");
  await until(async () => tg.app.realtime.open() === 0 && (await tg.usage()).reserved === 0, 'settled');
  const u = await tg.usage();
  t.equal(u.credits.remaining, 0);
  t.equal(u.breakdown.tts, 0.3, '10 code points = 0.3 credits');
});
