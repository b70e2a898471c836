import t from 'tap';
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const flac = readFileSync(new URL('audio/tone-60s.flac', fixtures));

t.test('self-hosted whisper errors cost nothing: a server 500 is free, a Free account past its credits is refused before the server sees the upload', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 500, { detail: 'CUDA out of memory' }));
  const tg = await startTollgate({ providers: { whisper: { baseUrl: up.url } }, tiers: { free: { includedCredits: 10 } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('whisper')}/v1`, maxRetries: 0 });

  const failed = await client.audio.transcriptions.create({ file: await toFile(flac, 'tone.flac'), model: 'large-v3' }).catch((e: unknown) => e);
  t.ok(failed instanceof OpenAI.InternalServerError);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a server error costs 0');

  // 664 KB reserve 166 s at 4,000 B/s = 33.2 credits > 10.
  const refused = await client.audio.transcriptions.create({ file: await toFile(Buffer.concat([flac, flac, flac, flac]), 'tone.flac'), model: 'large-v3' }).catch((e: unknown) => e);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).status, 402);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).code, 'insufficient_credits');
  t.equal(up.requests.length, 1, 'the refused upload never reached the server');
  t.equal((await tg.usage()).credits.used, 0);
});
