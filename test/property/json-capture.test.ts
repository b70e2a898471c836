// Property: JsonFieldCapture captures the wanted top-level fields exactly, and the same ones,
// however the document is cut into chunks: strings with quotes, escapes and multi-byte
// characters, nested values, any whitespace, wanted names also appearing deeper down.
import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { JsonFieldCapture } from '../../proxy/meters/json-capture.js';
import { cuts, fcParams, splitAt, trickyText } from '../helpers/property.js';

const WANTED = new Set(['usage', 'model']);
const key = fc.oneof(trickyText(8), fc.constantFrom('usage', 'model', 'choices', 'id'));
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), trickyText(), fc.record({ usage: fc.jsonValue({ maxDepth: 1 }), text: trickyText() }));

function capture(chunks: readonly Buffer[]): Record<string, unknown> {
  const c = new JsonFieldCapture(WANTED);
  for (const ch of chunks) c.push(ch);
  return c.result();
}

t.test('the captured fields are the document\u2019s, at every split', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 8 }), fc.constantFrom(0, 1, 2, '\t'), cuts(), (doc, indent, fractions) => {
      runs++;
      const bytes = Buffer.from(JSON.stringify(doc, null, indent));
      const expected: Record<string, unknown> = {};
      for (const k of WANTED) if (Object.hasOwn(doc, k)) expected[k] = JSON.parse(JSON.stringify(doc[k]));
      const whole = capture([bytes]);
      const split = capture(splitAt(bytes, fractions));
      return isDeepStrictEqual(whole, expected) && isDeepStrictEqual(split, expected);
    }),
    fcParams(1500),
  );
  t.equal(runs, 1500, '1,500 generated documents, each whole and cut at random');
});
