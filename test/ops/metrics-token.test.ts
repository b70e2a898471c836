// metrics.token: /metrics needs Authorization: Bearer <token> (compared in constant time);
// metrics.port: /metrics moves to its own listener. Default (neither): open on the admin port.
import t from 'tap';
import { startTollgate } from '../helpers/tollgate.js';

const TOKEN = 'metrics_token_for_tests_0001';

t.test('metrics.token: 401 without or with a wrong token, 200 with it', async (t) => {
  const tg = await startTollgate({ metrics: { token: TOKEN } });
  t.teardown(() => tg.close());
  const get = (h: Record<string, string> = {}) => fetch(`${tg.adminUrl}/metrics`, { headers: h });
  const none = await get();
  t.equal(none.status, 401);
  t.equal(((await none.json()) as any).error.code, 'invalid_metrics_token');
  t.equal((await get({ authorization: 'Bearer wrong_token_of_some_length' })).status, 401);
  t.equal((await get({ authorization: 'Bearer ' })).status, 401);
  const ok = await get({ authorization: `Bearer ${TOKEN}` });
  t.equal(ok.status, 200);
  t.match(await ok.text(), /^# HELP tollgate_requests_total/m);
  t.equal((await fetch(`${tg.adminUrl}/healthz`)).status, 200, 'health stays open');
});

t.test('metrics.port: its own listener, the admin port no longer serves /metrics', async (t) => {
  const tg = await startTollgate({ metrics: { host: '127.0.0.1', port: 0, token: TOKEN } });
  t.teardown(() => tg.close());
  const addr = tg.app.metricsServer!.address() as { port: number };
  const url = `http://127.0.0.1:${addr.port}/metrics`;
  t.equal((await fetch(url)).status, 401);
  t.equal((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  t.equal((await fetch(`${tg.adminUrl}/metrics`)).status, 404);
});

t.test('default: open on the admin port', async (t) => {
  const tg = await startTollgate();
  t.teardown(() => tg.close());
  t.equal((await fetch(`${tg.adminUrl}/metrics`)).status, 200);
  t.equal(tg.app.metricsServer, undefined);
});
