// JsonFieldCapture against JSON.parse on a document full of escapes, split at every byte
// boundary: the fast string skip must agree with the byte-by-byte walk wherever a chunk ends.

import t from 'tap';
import { JsonFieldCapture } from '../proxy/meters/json-capture.js';

const doc = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-1',
    choices: [{ message: { content: 'say "usage": {"prompt_tokens": 1} \\ and \\" and ünïcödé 🙂 "}' } }],
    note: '\\\\"usage\\\\"',
    usage: { prompt_tokens: 24, completion_tokens: 9, total_tokens: 33, details: { text: 'a "b" \\ c' } },
    model: 'gpt-4.1',
  }),
);
const expected = JSON.parse(doc.toString('utf8')) as Record<string, unknown>;
const wanted = new Set(['usage', 'model']);

t.test('every split point gives the parsed fields exactly', async (t) => {
  let bad = 0;
  for (let cut = 0; cut <= doc.length; cut++) {
    const c = new JsonFieldCapture(wanted);
    c.push(doc.subarray(0, cut));
    c.push(doc.subarray(cut));
    const r = c.result();
    if (JSON.stringify(r) !== JSON.stringify({ usage: expected.usage, model: expected.model })) bad++;
  }
  t.equal(bad, 0, `all ${doc.length + 1} two-chunk splits`);
});

t.test('one byte at a time', async (t) => {
  const c = new JsonFieldCapture(wanted);
  for (let i = 0; i < doc.length; i++) c.push(doc.subarray(i, i + 1));
  t.same(c.result(), { usage: expected.usage, model: expected.model });
});

t.test('keys cut across two or three chunks, multi-byte ones too, are read whole', async (t) => {
  const d = Buffer.from(JSON.stringify({ 'ключ-🙂': { a: 1 }, padding: 'x', usage: { total_tokens: 7 }, 'usage-not': 2 }));
  const want = new Set(['ключ-🙂', 'usage']);
  const exp = JSON.stringify({ 'ключ-🙂': { a: 1 }, usage: { total_tokens: 7 } });
  let bad = 0;
  let runs = 0;
  for (let i = 0; i <= d.length; i++) {
    for (let j = i; j <= d.length; j++) {
      const c = new JsonFieldCapture(want);
      c.push(d.subarray(0, i));
      c.push(d.subarray(i, j));
      c.push(d.subarray(j));
      runs++;
      if (JSON.stringify(c.result()) !== exp) bad++;
    }
  }
  t.equal(bad, 0, `all ${runs} three-chunk splits`);
});

// Random documents: nested objects and arrays (to depth 6) with strings full of quotes,
// brackets, escapes and the wanted names, pretty-printed or not, the wanted keys anywhere at
// the top level and deeper; each split into one to five chunks at random points.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const TRICKY = ['usage', 'model', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', 'é', '🙂', '"usage":{', 'x'];
function randomValue(r: () => number, depth: number): unknown {
  const k = r();
  if (depth >= 6 || k < 0.35) {
    const s = r();
    if (s < 0.25) return Math.floor(r() * 1e6) - 1000;
    if (s < 0.3) return r() < 0.5;
    if (s < 0.35) return null;
    let str = '';
    for (let i = Math.floor(r() * 6); i > 0; i--) str += TRICKY[Math.floor(r() * TRICKY.length)];
    return str;
  }
  if (k < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[r() < 0.2 ? 'usage' : TRICKY[Math.floor(r() * TRICKY.length)]! + i] = randomValue(r, depth + 1);
  return o;
}

t.test('random documents in random chunks: the same fields as JSON.parse', async (t) => {
  let bad = 0;
  let first = '';
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(seed);
    const top: Record<string, unknown> = {};
    for (let i = Math.floor(r() * 6); i > 0; i--) top[`k${i}`] = randomValue(r, 1);
    if (r() < 0.8) top.usage = randomValue(r, 1);
    if (r() < 0.6) top.model = randomValue(r, 1);
    for (let i = Math.floor(r() * 3); i > 0; i--) top[`after${i}`] = randomValue(r, 1);
    const text = r() < 0.3 ? JSON.stringify(top, null, 2) : JSON.stringify(top);
    const bytes = Buffer.from(text);
    const cuts = Array.from({ length: Math.floor(r() * 5) }, () => Math.floor(r() * (bytes.length + 1))).sort((a, b) => a - b);
    const c = new JsonFieldCapture(wanted);
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      c.push(bytes.subarray(at, cut));
      at = cut;
    }
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const want: Record<string, unknown> = {};
    if ('usage' in parsed) want.usage = parsed.usage;
    if ('model' in parsed) want.model = parsed.model;
    const got = c.result();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      bad++;
      first ||= `seed ${seed}, cuts ${cuts.join(',')}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
    }
  }
  t.equal(bad, 0, first || 'all 3,000 documents');
});
