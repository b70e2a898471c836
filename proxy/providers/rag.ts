// The platform's own search service (self-hosted, configured `baseUrl`; Bearer key or none).
// tollgate does not know its API, so it meters the conventional search endpoints and refuses
// the rest (404 unknown_route), so no other call reaches it unaccounted:
//   POST /search, POST /v1/search    JSON query bodies (Qdrant/Weaviate-style search services)
//   GET  /search, GET  /v1/search    query-string search (`?q=…`)
//   POST /query,  POST /v1/query     RAG "query" endpoints (LlamaIndex/LightRAG-style servers)
// and lets `GET /health` through free. Each 2xx answer is one query at `pricing.rag` (seed: 2
// credits); a non-2xx answer costs nothing (the pipeline charges only 2xx). The body is streamed
// through unread: the price does not depend on it.

import type { MeterPlan, ProviderAdapter, RouteSpec } from './types.js';
import { freeRoute, openAiErrorBody, setBearer } from './openai-compatible.js';

function queryRoute(method: string, path: string): RouteSpec {
  return {
    method,
    path,
    body: 'none',
    plan(ctx): MeterPlan {
      const micro = ctx.pricing.ragRate();
      return {
        modality: 'rag',
        estimateMicro: micro,
        response: () => ({
          onChunk: () => undefined,
          result: () => ({ microCredits: micro, units: { queries: 1 }, source: 'request' }),
        }),
      };
    },
  };
}

export const rag: ProviderAdapter = {
  id: 'rag',
  modality: 'rag',
  keyOptional: true,
  clientAuth: ['bearer'],
  setUpstreamKey: setBearer,
  routes: [
    queryRoute('POST', '/search'),
    queryRoute('POST', '/v1/search'),
    queryRoute('GET', '/search'),
    queryRoute('GET', '/v1/search'),
    queryRoute('POST', '/query'),
    queryRoute('POST', '/v1/query'),
    freeRoute('GET', '/health'),
  ],
  errorBody: openAiErrorBody,
};
