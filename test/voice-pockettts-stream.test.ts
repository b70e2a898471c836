import t from 'tap';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

t.test('pockettts streamed WAV from an urlencoded form: chunks pass as they come, 250 code points = 0.5 credits', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-disposition': 'attachment; filename=generated_speech.wav' });
    res.write(Buffer.from('RIFF\xff\xff\xff\xffWAVE', 'latin1'));
    for (let i = 0; i < 3; i++) {
      res.write(Buffer.alloc(4800, i));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { pockettts: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const text = 'Ça va? '.repeat(35) + 'é'.repeat(5); // 7 × 35 + 5 = 250 code points
  const r = await fetch(`${tg.base('pockettts')}/tts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ text, voice_url: 'hf://kyutai/tts-voices/alba-mackenna/casual.wav' }).toString(),
  });
  t.equal(r.status, 200);
  let bytes = 0;
  for await (const c of r.body as AsyncIterable<Uint8Array>) bytes += c.length;
  t.equal(bytes, 12 + 3 * 4800);
  t.equal(new URLSearchParams(up.requests[0]!.body.toString()).get('text'), text);

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0.5, '250 × 2 / 1,000');
  t.equal(settled[0]!.units.chars, 250);
});
