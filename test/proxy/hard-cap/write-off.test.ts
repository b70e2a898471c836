// The last line of the Free cap (issue 18): a provider that reports more than the request
// allowed (it ignores the limit tollgate wrote in) is charged up to the limit, never past it;
// the rest is written off, logged (one warn line per request) and counted in
// tollgate_written_off_credits_total{provider,modality}. On the memory ledger and on Redis.
import { Writable } from 'node:stream';
import t from 'tap';
import OpenAI from 'openai';
import { pino } from 'pino';
import { burstGate, startWritingProvider } from '../../helpers/hard-cap.js';
import { startRedis } from '../../helpers/redis.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const N = 40;

for (const backend of ['memory', 'redis'] as const) {
  t.test(`${backend}: 38 admitted calls each reporting 8,000 output tokens: used = 2,500 credits, 2,364.304 written off`, async (t) => {
    const gate = burstGate(N);
    const up = await startWritingProvider({ onArrive: gate.arrive, hold: gate.hold, ignoreBound: true });
    t.teardown(() => up.close());
    const config: Record<string, unknown> = { providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } } };
    if (backend === 'redis') {
      const redis = await startRedis();
      t.teardown(() => redis.stop());
      config.redis = { url: redis.url };
    }
    const lines: any[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const written: number[] = [];
    const tg = await startTollgate(config, { tier: 'free', logger: pino({ level: 'warn' }, sink), events: { writtenOff: (_rec, micro) => written.push(micro) } });
    t.teardown(() => tg.close());
    const openai = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1`, maxRetries: 0, timeout: 20_000 });

    const results = await Promise.all(
      Array.from({ length: N }, () =>
        openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }).then(
          (r) => r.usage?.completion_tokens,
          () => {
            gate.refused();
            return 'refused';
          },
        ),
      ),
    );
    // Reserved 65,560,000 µcr each (see output-bound.test.ts): 38 admitted.
    t.equal(results.filter((r) => r === 8000).length, 38, 'the provider overshot the 4,096 sent');
    t.equal(results.filter((r) => r === 'refused').length, 2);
    await tg.app.pipeline.idle(10_000);

    // Reported each: 2 × 4,000 + 8,000 × 16,000 = 128,008,000 µcr; 38 × = 4,864,304,000.
    const u = await tg.app.ledger.usage('acct');
    t.equal(u.usedMicro, 2_500_000_000, 'used == limit, not 4,864.304 credits');
    t.same(u.breakdownMicro, { tts: 0, stt: 0, llm: 2_500_000_000, rag: 0 });
    t.equal(u.remainingMicro, 0);
    t.equal(u.reservedMicro, 0);
    t.equal(u.requestCount, 38);
    // 19 settle in full (2,432,152,000), the 20th gets 67,848,000 of its 128,008,000; the
    // other 18 are written off whole: 19 settles write something off.
    const total = 4_864_304_000 - 2_500_000_000;
    t.equal(written.length, 19);
    t.equal(written.reduce((a, b) => a + b, 0), total);
    t.equal(written.filter((w) => w === 128_008_000).length, 18);
    t.same(written.filter((w) => w !== 128_008_000), [128_008_000 - 67_848_000]);
    const warns = lines.filter((l) => l.msg === 'charge past the cap written off');
    t.equal(warns.length, 19, 'one warn line per request written off');
    t.same(Object.keys(warns[0]).filter((k) => ['accountId', 'requestId', 'writtenOffMicro'].includes(k)).sort(), ['accountId', 'requestId', 'writtenOffMicro']);
    t.equal(warns.reduce((a, l) => a + l.writtenOffMicro, 0), total);
    t.equal(new Set(warns.map((l) => l.requestId)).size, 19);

    const metrics = await (await fetch(`${tg.adminUrl}/metrics`)).text();
    const m = /^tollgate_written_off_credits_total\{provider="openai",modality="llm"\} (\S+)$/m.exec(metrics);
    t.ok(m, 'the metric is exported');
    t.equal(Math.round(Number(m![1]) * 1_000_000), total, '2,364.304 credits');
    const charged = /^tollgate_credits_total\{modality="llm"\} (\S+)$/m.exec(metrics);
    t.equal(Math.round(Number(charged![1]) * 1_000_000), 4_864_304_000, 'tollgate_credits_total is what the provider reported; used = it − written off');
  });
}
