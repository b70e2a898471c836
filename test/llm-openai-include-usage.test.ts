// OpenAI streams report usage only with stream_options.include_usage. tollgate injects it when
// the client did not ask and hides the extra chunk; when the client asked, the client sees it.
// Bodies it does not change are forwarded byte for byte.
import t from 'tap';
import { openaiClient, postJson, startLlmStack } from './helpers/llm-tollgate.js';

t.test('include_usage: injected and hidden, or asked for and shown; bytes untouched otherwise', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t);
  const client = openaiClient(tg);

  // The client asked: it gets the usage chunk, and its body goes upstream unchanged.
  const asked = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
  const seen: Array<{ choices: unknown[]; usage?: unknown }> = [];
  for await (const c of asked) seen.push(c);
  t.equal(seen.length, 8);
  t.same(seen.at(-1)!.choices, []);
  t.same((seen.at(-1)!.usage as { prompt_tokens: number; completion_tokens: number }).completion_tokens, 500);
  t.same(JSON.parse(up.openai.requests[0]!.body.toString()).stream_options, { include_usage: true });

  // Not asked: injected upstream, hidden from the client.
  const quiet = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }], stream: true });
  let n = 0;
  for await (const c of quiet) {
    n++;
    t.not(c.choices.length, 0, 'no chunk without choices reaches the client');
  }
  t.equal(n, 7);
  t.same(JSON.parse(up.openai.requests[1]!.body.toString()).stream_options, { include_usage: true });
  let u = await settledUsage();
  t.equal(u.credits.used, 24);

  // Byte-exact forwarding, through a raw client so the bytes are known.
  const plain = Buffer.from('{ "model" : "gpt-4.1",\n  "messages": [{"role":"user","content":"h\\u00e9llo"}] }\n');
  let r = await postJson(`${tg.base('openai')}/v1/chat/completions`, plain);
  t.equal(r.status, 200);
  t.ok(up.openai.requests[2]!.body.equals(plain), 'a plain request is forwarded byte for byte');
  t.equal(up.openai.requests[2]!.headers['content-length'], String(plain.length));

  const streamAsked = Buffer.from('{"model":"gpt-4.1", "stream":true, "stream_options":{"include_usage":true},\n"messages":[{"role":"user","content":"hi"}]}');
  r = await postJson(`${tg.base('openai')}/v1/chat/completions`, streamAsked);
  t.equal(r.status, 200);
  t.ok(up.openai.requests[3]!.body.equals(streamAsked), 'a stream that asked for usage is forwarded byte for byte');
  t.match(r.text, /"choices":\[\],"usage":\{"prompt_tokens":1000/, 'and the client sees the usage chunk');

  const streamQuiet = Buffer.from('{"model":"gpt-4.1", "stream":true,\n"messages":[{"role":"user","content":"hi"}]}\n');
  r = await postJson(`${tg.base('openai')}/v1/chat/completions`, streamQuiet);
  t.equal(r.status, 200);
  t.equal(
    up.openai.requests[4]!.body.toString(),
    '{"model":"gpt-4.1", "stream":true,\n"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}',
    'include_usage is spliced in, the rest of the client bytes kept',
  );
  t.notMatch(r.text, /"choices":\[\]/, 'the injected usage chunk is not shown');
  t.match(r.text, /data: \[DONE\]\n\n$/, 'the stream still ends with [DONE]');
  const expected = (await import('node:fs')).readFileSync(new URL('../../test/fixtures/openai/chat-stream.sse', import.meta.url), 'utf8');
  t.equal(r.text, expected.split(/(?<=\n\n)/).filter((b) => !b.includes('"choices":[]')).join(''), 'every other event byte for byte');

  // Other stream_options of the client's are kept when include_usage is added.
  const other = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_obfuscation: false } });
  n = 0;
  for await (const _ of other) n++;
  t.equal(n, 7, 'the usage chunk is hidden');
  t.same(JSON.parse(up.openai.requests[5]!.body.toString()).stream_options, { include_obfuscation: false, include_usage: true });

  u = await settledUsage();
  t.equal(u.credits.used, 72);
  t.equal(u.requestCount, 6);
});
