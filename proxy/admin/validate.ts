// zod validation of admin request bodies: every problem listed in one 400 invalid_request.

import type { z } from 'zod';
import { AdminHttpError } from './router.js';

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
  throw new AdminHttpError(400, 'invalid_request', `invalid request body: ${problems.join('; ')}`);
}
