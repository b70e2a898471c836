// Test helper for the property tests (fast-check): arbitrary chunkings of a byte string, and the
// run budget every property shares (each test file stays under ~10 s on a loaded machine).

import fc from 'fast-check';

/** fast-check parameters: a fixed seed unless FC_SEED is set, so a failure replays. */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  return { numRuns, seed: Number(process.env.FC_SEED ?? 18) };
}

/** Cut points as fractions; `splitAt` turns them into chunks of any buffer (1-byte chunks included). */
export const cuts = (): fc.Arbitrary<number[]> =>
  fc.oneof(
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 24 }),
    // Byte by byte, now and then: the hardest split.
    fc.constant<number[]>([-1]),
  );

/** [-1]: byte by byte (for a large buffer, its first and last 2 KB byte by byte, the middle whole). */
export function splitAt(buf: Buffer, fractions: readonly number[]): Buffer[] {
  if (fractions.length === 1 && fractions[0] === -1) {
    const bytes = (from: number, to: number) => Array.from(buf.subarray(from, to), (b) => Buffer.from([b]));
    if (buf.length <= 8_192) return bytes(0, buf.length);
    return [...bytes(0, 2_048), buf.subarray(2_048, buf.length - 2_048), ...bytes(buf.length - 2_048, buf.length)];
  }
  const points = [...new Set(fractions.map((f) => Math.floor(f * buf.length)))].filter((p) => p > 0 && p < buf.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

/** Text with the characters that break byte-level parsers: multi-byte UTF-8, quotes, escapes, line ends. */
export const trickyText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.array(fc.oneof(fc.constantFrom('a', ' ', 'é', '中', '👋', '"', '\\', '\n', '\r', ':', '{', '}', '[', ']', ','), fc.string({ maxLength: 3 })), { maxLength }).map((a) => a.join(''));
