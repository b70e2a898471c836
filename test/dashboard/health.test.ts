// The overview's health figures are read from /metrics' text: requests and 5xx answers per
// provider, upstream failures, ledger errors, requests in flight, and the alert deliverer's
// counters when it runs (absent series: no alerts section).

import t from 'tap';
import { providerHealth } from '../../proxy/dashboard/health.js';

const TEXT = `# HELP tollgate_requests_total Data-plane requests
# TYPE tollgate_requests_total counter
tollgate_requests_total{provider="openai",modality="llm",status="200"} 7
tollgate_requests_total{provider="openai",modality="llm",status="502"} 2
tollgate_requests_total{provider="kokoro",modality="tts",status="200"} 3
tollgate_requests_total{provider="openai",modality="none",status="401"} 1
tollgate_rejected_total{provider="openai",code="upstream_error"} 2
tollgate_rejected_total{provider="openai",code="invalid_api_key"} 1
tollgate_ledger_errors_total{op="settle"} 4
tollgate_requests_in_flight 5
`;

t.test('providers, ledger errors, in flight; no alert series: no alerts', async (t) => {
  t.same(providerHealth(TEXT), {
    providers: [
      { provider: 'kokoro', requests: 3, serverErrors: 0, upstreamFailures: 0 },
      { provider: 'openai', requests: 10, serverErrors: 2, upstreamFailures: 2 },
    ],
    ledgerErrors: 4,
    inFlight: 5,
  });
});

t.test('the alert deliverer counters by event type', async (t) => {
  const text = `${TEXT}tollgate_alerts_sent_total{type="credits.threshold_crossed"} 3
tollgate_alerts_sent_total{type="overage.started"} 1
tollgate_alerts_failures_total{type="credits.threshold_crossed"} 2
tollgate_alerts_deferred 1
`;
  t.same(providerHealth(text).alerts, {
    byType: [
      { type: 'credits.threshold_crossed', sent: 3, failures: 2 },
      { type: 'overage.started', sent: 1, failures: 0 },
    ],
    deferred: 1,
  });
});
