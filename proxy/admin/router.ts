// The admin port's router: routes register with the auth they need; handlers return a reply
// or throw an error carrying {status, code}. Other modules (billing, operator) add their routes.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CodedError, typeForStatus, type ErrorRow } from '../../pricing/error-catalogue.js';
import { hashKey } from '../auth.js';
import { PROXY_ERRORS } from '../errors.js';
import { hasBadEscape } from '../registry.js';
import { ADMIN_ERRORS } from './errors.js';

export type AdminAuth = 'none' | 'customer' | 'admin';

export interface AdminContext {
  req: IncomingMessage;
  url: URL;
  params: string[];
  /** The customer's account for `customer` routes. */
  accountId: string;
  /** Who is asking, for the audit log: `admin:<token id>`, `key:<key id>`, or `anonymous`. */
  actor: string;
  /** The raw body (bounded). */
  rawBody(): Promise<Buffer>;
  /** The JSON body; {} when empty; throws 400 invalid_request when malformed. */
  json(): Promise<Record<string, unknown>>;
}

export interface AdminReply {
  status?: number;
  body?: unknown;
  /** Plain text instead of JSON (metrics). */
  text?: string;
  headers?: Record<string, string>;
}

export type AdminHandler = (ctx: AdminContext) => Promise<AdminReply> | AdminReply;

interface Route {
  method: string;
  pattern: RegExp;
  auth: AdminAuth;
  handler: AdminHandler;
}

/** An admin route's refusal: its code is a row of ADMIN_ERRORS or of the proxy's table (test/ops/error-catalogue.test.ts checks the status). */
export class AdminHttpError extends CodedError {
  override name = 'AdminHttpError';
  constructor(status: number, code: string, message: string) {
    const row = (ADMIN_ERRORS as Record<string, ErrorRow>)[code] ?? (PROXY_ERRORS as Record<string, ErrorRow>)[code];
    super(code, message, { status, type: row?.type ?? typeForStatus(status) });
  }
}

export interface AdminRouterOptions {
  logger: Logger;
  adminToken: string | undefined;
  /** Resolves a customer key to its owner (the proxy's cached authenticator). */
  resolveCustomer(key: string): Promise<{ accountId: string; keyId: string; suspended: boolean } | null>;
  maxBodyBytes?: number;
}

export class AdminRouter {
  private readonly routes: Route[] = [];
  private readonly adminTokenHash: Buffer | undefined;
  /** The admin token's public id in the audit log: 12 hex characters of its hash, as for keys. */
  private readonly adminActor: string;

  constructor(private readonly o: AdminRouterOptions) {
    this.adminTokenHash = o.adminToken ? Buffer.from(hashKey(o.adminToken), 'hex') : undefined;
    this.adminActor = `admin:${this.adminTokenHash?.toString('hex').slice(0, 12) ?? 'none'}`;
  }

  /** `path` is exact, or uses `:param` segments: `/v1/provider-keys/:provider`. */
  add(method: string, path: string, auth: AdminAuth, handler: AdminHandler): this {
    const pattern = new RegExp(`^${path.replace(/:[a-zA-Z]+/g, '([^/]+)').replace(/\//g, '\\/')}$`);
    this.routes.push({ method, pattern, auth, handler });
    return this;
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.dispatch(req, res).catch((err: unknown) => {
      const e = err as { status?: number; code?: string; message?: string; type?: string };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (status >= 500) this.o.logger.error({ err }, 'admin request failed');
      send(res, status, { error: { message: status === 500 ? 'internal error' : e.message, type: status === 500 ? 'api_error' : (e.type ?? typeForStatus(status)), code: status === 500 ? 'internal_error' : (e.code ?? 'internal_error') } });
    });
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (hasBadEscape(req.url ?? '/')) throw new AdminHttpError(400, 'invalid_request', 'the request target has a malformed percent-escape');
    const url = new URL(req.url ?? '/', 'http://admin');
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      const { accountId, actor } = await this.authorize(req, r.auth);
      let raw: Buffer | undefined;
      const rawBody = async () => (raw ??= await readAll(req, this.o.maxBodyBytes ?? 1024 * 1024));
      const ctx: AdminContext = {
        req,
        url,
        params: m.slice(1).map(decodeURIComponent),
        accountId,
        actor,
        rawBody,
        async json() {
          const b = await rawBody();
          if (b.length === 0) return {};
          try {
            const v = JSON.parse(b.toString('utf8')) as unknown;
            if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
          } catch {
            // fall through
          }
          throw new AdminHttpError(400, 'invalid_request', 'the request body must be a JSON object');
        },
      };
      const reply = await r.handler(ctx);
      if (reply.text !== undefined) {
        res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain; charset=utf-8', ...reply.headers });
        res.end(reply.text);
      } else send(res, reply.status ?? 200, reply.body ?? {}, reply.headers);
      return;
    }
    if (pathMatched) throw new AdminHttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`);
    throw new AdminHttpError(404, 'not_found', `no admin route ${req.method} ${url.pathname}`);
  }

  private async authorize(req: IncomingMessage, auth: AdminAuth): Promise<{ accountId: string; actor: string }> {
    if (auth === 'none') return { accountId: '', actor: 'anonymous' };
    const h = req.headers.authorization;
    const token = typeof h === 'string' && /^bearer /i.test(h) ? h.slice(7).trim() : '';
    if (auth === 'admin') {
      if (!this.adminTokenHash) throw new AdminHttpError(403, 'admin_disabled', 'the admin API is disabled: set admin.token');
      const { timingSafeEqual } = await import('node:crypto');
      if (!token || !timingSafeEqual(Buffer.from(hashKey(token), 'hex'), this.adminTokenHash)) {
        throw new AdminHttpError(401, 'invalid_admin_token', 'invalid admin token');
      }
      return { accountId: '', actor: this.adminActor };
    }
    if (!token) throw new AdminHttpError(401, 'invalid_api_key', 'missing API key: Authorization: Bearer <your tollgate key>');
    let who: Awaited<ReturnType<AdminRouterOptions['resolveCustomer']>>;
    try {
      who = await this.o.resolveCustomer(token);
    } catch {
      throw new AdminHttpError(503, 'ledger_unavailable', 'the ledger is unavailable');
    }
    if (!who) throw new AdminHttpError(401, 'invalid_api_key', 'invalid API key');
    if (who.suspended) throw new AdminHttpError(403, 'account_suspended', 'this account is suspended: contact the operator');
    return { accountId: who.accountId, actor: `key:${who.keyId}` };
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readAll(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new AdminHttpError(413, 'payload_too_large', `the request body is over ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}
