// `tollgate demo` runs to completion against its stand-ins and exits 0, printing /v1/usage
// after each step; the LLM stream and the BYOK call are always there.
import t from 'tap';
import { execFile } from 'node:child_process';
import { TOLLGATE_BIN } from './helpers/ops-process.js';

t.test('tollgate demo exits 0', async (t) => {
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [TOLLGATE_BIN, 'demo'], { timeout: 60_000 }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }));
  });
  t.equal(code, 0, stdout);
  const usages = stdout.split('\n').filter((l) => l.includes('GET /v1/usage →')).map((l) => JSON.parse(l.slice(l.indexOf('→') + 1)) as { requestCount: number; byok: { requestCount: number }; breakdown: { llm: number } });
  const skipped = (stdout.match(/: skipped \(/g) ?? []).length;
  t.equal(usages.length + skipped, 4, 'four steps: TTS, STT, LLM stream, BYOK');
  const [stream, byok] = usages.slice(-2);
  t.equal(byok!.requestCount, stream!.requestCount + 1, 'the BYOK call counts as a request');
  t.equal(byok!.byok.requestCount, 1);
  t.equal(byok!.breakdown.llm, stream!.breakdown.llm, 'and costs no credits');
  t.match(stdout, /the provider saw key …4242/, 'the stored key reached the provider');
  t.match(stdout, /Hello from the stand-in LLM\./);
});
