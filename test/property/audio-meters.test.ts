// Property: the STT upload meters measure the same audio however the upload is cut into chunks:
// WAV of any rate, channels and depth (exact: data bytes ÷ byte rate), declared raw PCM, a
// multipart form with the file anywhere among its fields, and a msgpack map (Fish Audio) with
// the audio among other values. Container files: audio-containers.test.ts.
import t from 'tap';
import fc from 'fast-check';
import { encode } from '@msgpack/msgpack';
import { createAudioDuration, createMultipartAudioMeter, pcmMs, type AudioDuration } from '../../proxy/meters/audio.js';
import { createMsgpackAudioMeter } from '../../proxy/meters/audio-msgpack.js';
import { multipart, wavBytes, type PcmSpec } from '../voice-audio-fixtures.js';
import { cuts, fcParams, splitAt, trickyText } from '../helpers/property.js';

const spec: fc.Arbitrary<PcmSpec> = fc.record({
  sampleRate: fc.constantFrom(8_000, 11_025, 16_000, 22_050, 24_000, 44_100, 48_000),
  channels: fc.integer({ min: 1, max: 2 }),
  bitsPerSample: fc.constantFrom(8, 16),
});

async function measure(d: AudioDuration, chunks: readonly Buffer[]): Promise<number | undefined> {
  for (const c of chunks) await d.push(c);
  d.end();
  return (await d.result()).ms;
}

/** What the WAV holds: its data bytes ÷ its byte rate, in ms, rounded half up as the meter does. */
const wavMs = (wav: Buffer): number => Math.round((wav.readUInt32LE(40) * 1000) / wav.readUInt32LE(28));

t.test('WAV: data bytes ÷ byte rate, whole and split', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(spec, fc.integer({ min: 1, max: 3_000 }), cuts(), async (s, ms, fractions) => {
      runs++;
      const wav = wavBytes(ms, s);
      const expected = wavMs(wav);
      const whole = await measure(createAudioDuration({ contentType: 'audio/wav' }), [wav]);
      const split = await measure(createAudioDuration({ contentType: 'audio/wav' }), splitAt(wav, fractions));
      return whole === expected && split === expected;
    }),
    fcParams(80),
  );
  t.equal(runs, 80, '80 generated WAVs');
});

t.test('declared raw PCM: bytes ÷ (rate × channels × bytes per sample), whole and split', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(spec, fc.integer({ min: 12, max: 100_000 }), cuts(), async (s, bytes, fractions) => {
      runs++;
      const pcm = { sampleRate: s.sampleRate, channels: s.channels, bytesPerSample: s.bitsPerSample / 8 };
      const body = Buffer.alloc(bytes, 0x11);
      const expected = pcmMs(pcm, bytes);
      const whole = await measure(createAudioDuration({ pcm }), [body]);
      const split = await measure(createAudioDuration({ pcm }), splitAt(body, fractions));
      return whole === expected && split === expected;
    }),
    fcParams(100),
  );
  t.equal(runs, 100, '100 generated PCM uploads');
});

const fieldValue = fc.oneof(trickyText(20).filter((s) => !s.includes('\r') && !s.includes('\n')), fc.constantFrom('whisper-1', 'json', 'en'));
t.test('multipart: the file part is measured and the fields kept, wherever the file sits and however it is cut', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(spec, fc.integer({ min: 1, max: 5_000 }), fc.array(fc.tuple(fc.constantFrom('model', 'language', 'prompt', 'response_format'), fieldValue), { maxLength: 4 }), fc.nat(), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 8, maxLength: 30 }), cuts(), async (s, ms, fields, at, boundary, fractions) => {
      runs++;
      const wav = wavBytes(ms, s);
      const uniq = [...new Map(fields).entries()];
      const parts = uniq.map(([name, value]) => ({ name, value }));
      parts.splice(at % (parts.length + 1), 0, { name: 'file', value: wav, filename: 'a.wav', contentType: 'audio/wav' } as never);
      const m = multipart(parts, `----b${boundary}`);
      const run = async (chunks: Buffer[]) => {
        const meter = createMultipartAudioMeter(m.contentType, { fileFields: ['file'] });
        for (const c of chunks) meter.upload.onChunk(c);
        meter.upload.onEnd();
        const r = await meter.result();
        return { ms: r.ms, hasFile: r.hasFile, fields: meter.fields() };
      };
      const expected = { ms: wavMs(wav), hasFile: true, fields: Object.fromEntries(uniq) };
      const whole = await run([m.body]);
      const split = await run(splitAt(m.body, fractions));
      return JSON.stringify(whole) === JSON.stringify(expected) && JSON.stringify(split) === JSON.stringify(expected);
    }),
    fcParams(80),
  );
  t.equal(runs, 80, '80 generated forms');
});

t.test('msgpack (Fish Audio ASR): the audio bin is measured and scalar fields kept, however it is cut', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(spec, fc.integer({ min: 1, max: 5_000 }), fc.dictionary(fc.constantFrom('language', 'n', 'ignore_timestamps', 'x'), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean())), fc.jsonValue({ maxDepth: 2 }), cuts(), async (s, ms, scalars, nested, fractions) => {
      runs++;
      const wav = wavBytes(ms, s);
      const body = Buffer.from(encode({ nested: { v: nested }, ...scalars, audio: wav }));
      const run = async (chunks: Buffer[]) => {
        const m = createMsgpackAudioMeter('audio');
        for (const c of chunks) m.upload.onChunk(c);
        m.upload.onEnd();
        return { r: await m.result(), fields: m.fields() };
      };
      const expectedFields = Object.fromEntries(Object.entries(scalars).map(([k, v]) => [k, String(v)]));
      const whole = await run([body]);
      const split = await run(splitAt(body, fractions));
      const ok = (x: typeof whole) => x.r.ms === wavMs(wav) && x.r.hasFile && JSON.stringify(x.fields) === JSON.stringify(expectedFields);
      return ok(whole) && ok(split);
    }),
    fcParams(80),
  );
  t.equal(runs, 80, '80 generated msgpack bodies');
});
