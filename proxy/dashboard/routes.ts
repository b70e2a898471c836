// The dashboard's routes on the admin port, under /dashboard (pages, CSV, static files), and
// POST /admin/dashboard/links (admin token) to mint a customer's signed link.
// Pages resolve who is looking (session cookie or signed link) themselves: the admin router's
// bearer auth is for the JSON API.

import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock, Ledger } from '../../ledger/types.js';
import { hashKey } from '../auth.js';
import { sortRows, usageCsv, usageRows } from '../admin/operator.js';
import { AdminHttpError, type AdminContext, type AdminReply, type AdminRouter } from '../admin/router.js';
import { parseBody } from '../admin/validate.js';
import { receiptsCsv } from './csv.js';
import { downloadHeaders, pageHeaders } from './headers.js';
import { readHealth } from './health.js';
import { accountPage } from './page-account.js';
import { customerPage } from './page-customer.js';
import { errorPage, loginPage } from './page-login.js';
import { overviewPage } from './page-overview.js';
import { readHistory, windows } from './sections.js';
import { createSessions, sameOrigin, type Viewer } from './session.js';
import type { AlertSource, HistorySource } from './source.js';
import { loadStaticFiles } from './static.js';

export interface DashboardConfig {
  enabled: boolean;
  linkSecret?: string | undefined;
  sessionTtlSeconds: number;
  linkTtlSeconds: number;
  linkMaxTtlSeconds: number;
  embedOrigins: string[];
}

export interface DashboardDeps {
  config: DashboardConfig;
  adminToken: string | undefined;
  ledger: Ledger;
  /** The customer-key resolver (the proxy's cached authenticator). */
  resolveKey(key: string): Promise<{ accountId: string; keyId: string; suspended: boolean } | null>;
  metricsText(): Promise<string>;
  history?: HistorySource | undefined;
  alerts?: AlertSource | undefined;
  clock: Clock;
  logger: Logger;
}

const ACCOUNT_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const RECEIPTS_SHOWN = 50;
const RECEIPTS_CSV = 1000;
/** The overview's charts read this many accounts' history at most (the most credits used first). */
const OVERVIEW_HISTORY_ACCOUNTS = 200;
const MintLink = z.strictObject({ account: z.string().regex(ACCOUNT_ID, 'an account id'), ttlSeconds: z.number().int().positive().optional() });

export function registerDashboard(router: AdminRouter, deps: DashboardDeps): void {
  const { config, ledger, clock, history, alerts } = deps;
  const sessions = createSessions({ adminToken: deps.adminToken, linkSecret: config.linkSecret, ttlSeconds: config.sessionTtlSeconds });
  const adminHash = deps.adminToken ? Buffer.from(hashKey(deps.adminToken), 'hex') : undefined;
  const files = loadStaticFiles();

  const htmlReply = (text: string, status = 200, frame: readonly string[] = []): AdminReply => ({ status, text, headers: pageHeaders(frame) });
  const redirect = (location: string, cookie?: string): AdminReply => ({ status: 303, text: '', headers: { location, 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) } });
  const refused = (status: number, title: string, message: string) => htmlReply(errorPage(title, message), status);

  /** The viewer of a customer page: a valid link wins; else a customer session whose key still works. */
  async function customerViewer(ctx: AdminContext): Promise<Viewer | AdminReply> {
    const link = ctx.url.searchParams.get('link');
    if (link !== null) {
      const v = sessions.readLink(link, clock.now());
      if (!v) return refused(401, 'Link expired', 'This link has expired or is not valid: ask for a new one.');
      const a = await ledger.getAccount(v.kind === 'link' ? v.accountId : '');
      if (!a || a.deletedAt) return refused(404, 'Unknown account', 'This account does not exist.');
      return v;
    }
    const s = sessions.read(ctx.req, clock.now());
    if (s?.kind === 'operator') return redirect('/dashboard');
    if (s?.kind !== 'customer') return redirect('/dashboard/login');
    // A revoked key or a suspended account ends the session at once.
    const k = await ledger.getKey(s.keyId);
    const a = k && !k.revokedAt && k.accountId === s.accountId ? await ledger.getAccount(s.accountId) : null;
    if (!a || a.suspended || a.deletedAt) return redirect('/dashboard/login', sessions.end(ctx.req));
    return s;
  }

  const isOperator = (ctx: AdminContext) => sessions.read(ctx.req, clock.now())?.kind === 'operator';

  router.add('GET', '/dashboard/static/:file', 'none', (ctx): AdminReply => {
    const f = files.get(ctx.params[0]!);
    if (!f) throw new AdminHttpError(404, 'not_found', 'no such file');
    if (ctx.req.headers['if-none-match'] === f.etag) return { status: 304, text: '', headers: { etag: f.etag } };
    return { text: f.body, headers: { 'content-type': f.type, etag: f.etag, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' } };
  });

  router.add('GET', '/dashboard/login', 'none', () => htmlReply(loginPage({ operator: sessions.operatorEnabled })));

  router.add('POST', '/dashboard/login', 'none', async (ctx) => {
    if (!sameOrigin(ctx.req)) return refused(403, 'Refused', 'A login form from another site is refused.');
    const form = new URLSearchParams((await ctx.rawBody()).toString('utf8'));
    const now = clock.now();
    if (form.get('role') === 'operator') {
      const token = form.get('token') ?? '';
      if (!adminHash) return htmlReply(loginPage({ operator: false, error: 'The operator dashboard is disabled: set admin.token.' }), 403);
      if (!token || !timingSafeEqual(Buffer.from(hashKey(token), 'hex'), adminHash)) return htmlReply(loginPage({ operator: true, error: 'That admin token is not valid.' }), 401);
      return redirect('/dashboard', sessions.start({ kind: 'operator' }, ctx.req, now));
    }
    const who = await deps.resolveKey(form.get('key') ?? '').catch(() => null);
    if (!who) return htmlReply(loginPage({ operator: sessions.operatorEnabled, error: 'That API key is not valid.' }), 401);
    if (who.suspended) return htmlReply(loginPage({ operator: sessions.operatorEnabled, error: 'This account is suspended: contact the operator.' }), 403);
    return redirect('/dashboard/me', sessions.start({ kind: 'customer', accountId: who.accountId, keyId: who.keyId }, ctx.req, now));
  });

  router.add('POST', '/dashboard/logout', 'none', (ctx) => {
    if (!sameOrigin(ctx.req)) return refused(403, 'Refused', 'A form from another site is refused.');
    return redirect('/dashboard/login', sessions.end(ctx.req));
  });

  router.add('GET', '/dashboard', 'none', async (ctx) => {
    const s = sessions.read(ctx.req, clock.now());
    if (s?.kind === 'customer') return redirect('/dashboard/me');
    if (s?.kind !== 'operator') return redirect('/dashboard/login');
    const now = clock.now();
    const w = windows(now);
    const rows = sortRows(await usageRows(ledger), 'used', 'desc');
    // The charts and the alerts read the accounts' own keys: bounded to the biggest spenders (rows are sorted).
    const top = rows.slice(0, OVERVIEW_HISTORY_ACCOUNTS);
    const [histories, fired, health] = await Promise.all([
      history ? Promise.all(top.map((r) => readHistory(history, r.account, w))) : undefined,
      alerts?.firedThisPeriod(top.map((r) => r.account)),
      readHealth(ledger, deps.metricsText),
    ]);
    return htmlReply(overviewPage({ now, rows, histories, chartedAccounts: top.length, alerts: fired, alertAccounts: top.length, health }));
  });

  router.add('GET', '/dashboard/usage.csv', 'none', async (ctx) => {
    if (!isOperator(ctx)) return redirect('/dashboard/login');
    return { text: usageCsv(sortRows(await usageRows(ledger), 'used', 'desc')), headers: downloadHeaders('usage.csv') };
  });

  const operatorAccount = async (ctx: AdminContext) => {
    const id = ctx.params[0]!;
    const account = ACCOUNT_ID.test(id) ? await ledger.getAccount(id) : null;
    return account;
  };

  router.add('GET', '/dashboard/accounts/:id', 'none', async (ctx) => {
    if (!isOperator(ctx)) return redirect('/dashboard/login');
    const account = await operatorAccount(ctx);
    if (!account) return refused(404, 'Unknown account', 'There is no such account.');
    const now = clock.now();
    const [usage, keys, h, receipts, fired] = await Promise.all([
      ledger.usage(account.id),
      ledger.listKeys(account.id),
      history ? readHistory(history, account.id, windows(now)) : undefined,
      history?.receipts(account.id, RECEIPTS_SHOWN),
      alerts?.firedThisPeriod([account.id]),
    ]);
    return htmlReply(accountPage({ now, account, usage, keys, history: h, receipts, alerts: fired }));
  });

  router.add('GET', '/dashboard/accounts/:id/history.csv', 'none', async (ctx) => {
    if (!isOperator(ctx)) return redirect('/dashboard/login');
    const account = await operatorAccount(ctx);
    if (!account || !history) return refused(404, 'Not found', 'No history for this account.');
    return { text: await history.historyCsv(account.id, windows(clock.now()).dayRange), headers: downloadHeaders(`${account.id}-history.csv`) };
  });

  router.add('GET', '/dashboard/me', 'none', async (ctx) => {
    const v = await customerViewer(ctx);
    if (!('kind' in v)) return v;
    const accountId = v.kind === 'operator' ? '' : v.accountId;
    const now = clock.now();
    const [usage, h, receipts, extras] = await Promise.all([
      ledger.usage(accountId),
      history ? readHistory(history, accountId, windows(now)) : undefined,
      history?.receipts(accountId, RECEIPTS_SHOWN),
      history?.extras(accountId),
    ]);
    const linkQuery = v.kind === 'link' ? `?link=${encodeURIComponent(v.link)}` : '';
    return htmlReply(customerPage({ now, accountId, usage, extras, history: h, receipts, linkQuery, session: v.kind === 'link' ? 'link' : 'customer' }), 200, config.embedOrigins);
  });

  router.add('GET', '/dashboard/me/history.csv', 'none', async (ctx) => {
    const v = await customerViewer(ctx);
    if (!('kind' in v)) return v;
    if (!history || v.kind === 'operator') return refused(404, 'Not found', 'No history.');
    return { text: await history.historyCsv(v.accountId, windows(clock.now()).dayRange), headers: downloadHeaders('history.csv') };
  });

  router.add('GET', '/dashboard/me/receipts.csv', 'none', async (ctx) => {
    const v = await customerViewer(ctx);
    if (!('kind' in v)) return v;
    if (!history || v.kind === 'operator') return refused(404, 'Not found', 'No receipts.');
    return { text: receiptsCsv(await history.receipts(v.accountId, RECEIPTS_CSV)), headers: downloadHeaders('receipts.csv') };
  });

  // The operator's app mints a link for the account its user is signed in to, and embeds it.
  router.add('POST', '/admin/dashboard/links', 'admin', async (ctx) => {
    if (!sessions.linksEnabled) throw new AdminHttpError(501, 'links_disabled', 'signed links need dashboard.linkSecret');
    const b = parseBody(MintLink, await ctx.json());
    const ttl = b.ttlSeconds ?? config.linkTtlSeconds;
    if (ttl > config.linkMaxTtlSeconds) throw new AdminHttpError(400, 'invalid_request', `ttlSeconds: at most ${config.linkMaxTtlSeconds} (dashboard.linkMaxTtlSeconds)`);
    const a = await ledger.getAccount(b.account);
    if (!a || a.deletedAt) throw new AdminHttpError(404, 'unknown_account', `no account "${b.account}"`);
    const { token, exp } = sessions.mintLink(a.id, ttl, clock.now());
    return { status: 201, body: { account: a.id, path: `/dashboard/me?link=${encodeURIComponent(token)}`, expiresAt: new Date(exp * 1000).toISOString() } };
  });
}
