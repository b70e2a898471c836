// The dashboard's escaping: every interpolation is escaped unless it is already SafeHtml, and a
// JSON data block cannot be closed by its data (model names come from clients' requests).

import t from 'tap';
import { escapeHtml, html, jsonBlock } from '../../proxy/dashboard/html.js';
import { receiptsCsv } from '../../proxy/dashboard/csv.js';

t.test('html`` escapes values, not nested templates', async (t) => {
  const evil = `<script>alert("x")</script>&'\``;
  t.equal(html`<td title="${evil}">${evil}</td>`.value, '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</td>');
  t.equal(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.value, '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>', 'arrays joined; nested html kept, its values escaped');
  t.equal(html`${null}${undefined}${false}${0}`.value, '0');
  t.equal(escapeHtml('a&b'), 'a&amp;b');
});

t.test('a JSON block survives a model named like a closing tag', async (t) => {
  const model = '</script><script>alert(1)</script>\u2028';
  const block = jsonBlock('d', { model }).value;
  t.equal(block.match(/<\/script>/g)!.length, 1, 'only the block itself closes');
  t.notOk(block.includes('<script>alert'), 'no markup from the data');
  const json = block.slice(block.indexOf('>') + 1, block.lastIndexOf('</script>'));
  t.same(JSON.parse(json), { model }, 'the data reads back the same');
});

t.test('receipt CSV cells a spreadsheet would run are defused', async (t) => {
  const csv = receiptsCsv([{ requestId: 'req_1', time: Date.UTC(2026, 11, 3), provider: 'openai', model: '=HYPERLINK("x")', modality: 'llm', units: { inputTokens: 10 }, micro: 1_500_000, outcome: 'ok', byok: false, keyId: null }]);
  t.same(csv.trim().split('\n'), [
    'time,requestId,provider,model,modality,credits,outcome,byok,chars,audioMs,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,queries',
    '2026-12-03T00:00:00.000Z,req_1,openai,"\'=HYPERLINK(""x"")",llm,1.5,ok,false,0,0,10,0,0,0,0',
  ], 'prefixed with a quote, then CSV-quoted');
});
