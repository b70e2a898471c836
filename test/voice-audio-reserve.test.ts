import t from 'tap';
import { pcmMs, sttReserveMs } from '../proxy/meters/audio.js';

const limits = { llmDefaultMaxTokens: 4096, sttReserveBytesPerSecond: 4_000, sttMaxReserveSeconds: 3_600 };

t.test('STT reservation: known duration, else Content-Length at the configured byte rate, capped', async (t) => {
  t.equal(sttReserveMs(limits, 1_920_044, 60_000), 60_000, 'a duration known up front wins');
  t.equal(sttReserveMs(limits, 1_920_044), 480_011, 'Content-Length ÷ 4,000 B/s, rounded up');
  t.equal(sttReserveMs(limits, 10_000_000_000), 3_600_000, 'capped at sttMaxReserveSeconds');
  t.equal(sttReserveMs(limits, undefined), 3_600_000, 'unknown length: the cap');
  t.equal(sttReserveMs(limits, 0), 0);
  t.equal(pcmMs({ sampleRate: 16_000, channels: 1, bytesPerSample: 2 }, 1_920_000), 60_000);
});
