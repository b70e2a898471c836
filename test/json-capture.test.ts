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
