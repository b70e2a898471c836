// Regression (issue 18): the input reservation was characters / 4, so a Free account sending
// 10,000 CJK characters a request had all 100 concurrent requests admitted and used 1.2× its
// cap. Now the reservation holds the text's UTF-8 bytes (a BPE token is at least one byte):
// exactly as many requests are admitted as that bound lets fit, and used stays under the limit
// even when the provider counts one token per byte.
import t from 'tap';
import OpenAI from 'openai';
import { burstGate, startWritingProvider } from '../../helpers/hard-cap.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const N = 100;
// 10,000 CJK characters, 3 UTF-8 bytes each.
const TEXT = '漢字'.repeat(5_000);

t.test('Free, 100 concurrent requests of 10,000 CJK characters: 82 admitted, used 2,484.6 of 2,500', async (t) => {
  t.equal(TEXT.length, 10_000);
  t.equal(Buffer.byteLength(TEXT), 30_000);
  const gate = burstGate(N);
  const up = await startWritingProvider({ onArrive: gate.arrive, hold: gate.hold });
  t.teardown(() => up.close());
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const openai = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1`, maxRetries: 0, timeout: 30_000 });

  const results = await Promise.all(
    Array.from({ length: N }, () =>
      openai.chat.completions.create({ model: 'gpt-4.1-mini', max_completion_tokens: 100, messages: [{ role: 'user', content: TEXT }] }).then(
        () => 'served',
        (e: InstanceType<typeof OpenAI.APIError>) => {
          gate.refused();
          return `${e.status} ${e.code}`;
        },
      ),
    ),
  );
  // Reserved each (gpt-4.1-mini: 1,000 µcr an input token, 3,000 an output token):
  // (30,000 bytes + 4) × 1,000 + 100 × 3,000 = 30,304,000 µcr. 82 × that = 2,484,928,000 fits
  // in 2,500,000,000; 83 × = 2,515,232,000 would not. (characters / 4 reserved 2,804,000: all 100.)
  t.equal(results.filter((r) => r === 'served').length, 82);
  t.equal(results.filter((r) => r === '402 insufficient_credits').length, 18);
  t.equal(up.requests.length, 82, 'the provider never saw a refused request');
  t.same(JSON.parse(up.requests[0]!.body.toString('utf8')).max_completion_tokens, 100, 'the client limit, unchanged');

  await tg.app.pipeline.idle(10_000);
  const u = await tg.app.ledger.usage('acct');
  // Charged each: 30,000 prompt tokens (one a byte) × 1,000 + 100 × 3,000 = 30,300,000 µcr.
  t.equal(u.usedMicro, 82 * 30_300_000);
  t.equal(u.usedMicro, 2_484_600_000);
  t.ok(u.usedMicro <= u.limitMicro);
  t.equal(u.reservedMicro, 0);
  t.equal(u.requestCount, 82);
});
