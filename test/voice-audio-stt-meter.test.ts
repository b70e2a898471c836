import t from 'tap';
import { createPricing } from '../pricing/index.js';
import { secondsToMs, sttResponseMeter } from '../proxy/meters/audio-stt.js';

const pricing = createPricing();
const rate = 9_000_000; // Deepgram: 9 credits a minute
const head = { status: 200, headers: { 'content-type': 'application/json' } };
const reported = { fields: ['metadata'], ms: (v: Record<string, unknown>) => secondsToMs((v.metadata as { duration?: unknown } | undefined)?.duration) };
const body = Buffer.from(JSON.stringify({ metadata: { request_id: 'r', duration: 61.5 }, results: { channels: [] } }));

t.test("tollgate's measurement bills; the provider's report is recorded beside it", async (t) => {
  const m = sttResponseMeter(head, { pricing, rate, reservedMs: 1, reported, measured: async () => ({ ms: 60_000, format: 'wav' }) });
  m.onChunk(body.subarray(0, 20));
  m.onChunk(body.subarray(20));
  t.same(await m.result(true), { microCredits: 9_000_000, units: { audioMs: 60_000 }, source: 'measured', reported: { audioMs: 61_500 } });
});

t.test("unmeasurable audio bills the provider's report", async (t) => {
  const m = sttResponseMeter(head, { pricing, rate, reservedMs: 1, reported, measured: async () => ({ ms: undefined }) });
  m.onChunk(body);
  t.same(await m.result(true), { microCredits: 9_225_000, units: { audioMs: 61_500 }, source: 'provider', reported: { audioMs: 61_500 } });
});

t.test('neither: the reservation bills, as an estimate', async (t) => {
  const m = sttResponseMeter({ status: 200, headers: { 'content-type': 'text/plain' } }, { pricing, rate, reservedMs: 120_000, reported });
  m.onChunk(Buffer.from('hello'));
  t.same(await m.result(true), { microCredits: 18_000_000, units: { audioMs: 120_000 }, source: 'estimate' });
});
