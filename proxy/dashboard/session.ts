// Who is looking at the dashboard: an operator (logged in with the admin token), a customer
// (logged in with one of its keys), or a signed link for one account. Sessions are signed
// cookies (HttpOnly, SameSite=Strict, Path=/dashboard): the token or key itself is never stored
// in the cookie nor put in a URL. The operator's cookie is signed with a key derived from the
// admin token (rotating the token ends every session); the customer's with one derived from
// dashboard.linkSecret (else the admin token, under another label), so a holder of the link
// secret alone cannot forge an operator session.

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createSigner, type Signer } from './signed.js';

export type Viewer =
  | { kind: 'operator' }
  | { kind: 'customer'; accountId: string; keyId: string }
  | { kind: 'link'; accountId: string; link: string; exp: number };

export const COOKIE = 'tg_dash';

export interface Sessions {
  readonly operatorEnabled: boolean;
  readonly linksEnabled: boolean;
  /** The Set-Cookie value that starts a session. */
  start(viewer: { kind: 'operator' } | { kind: 'customer'; accountId: string; keyId: string }, req: IncomingMessage, nowMs: number): string;
  /** The Set-Cookie value that ends it. */
  end(req: IncomingMessage): string;
  /** The session of the request's cookie, if any and valid (not yet checked against the ledger). */
  read(req: IncomingMessage, nowMs: number): Viewer | null;
  /** A signed link for one account, valid for ttlSeconds. */
  mintLink(accountId: string, ttlSeconds: number, nowMs: number): { token: string; exp: number };
  readLink(token: string, nowMs: number): Viewer | null;
}

const derive = (secret: string, label: string) => createHash('sha256').update(`tollgate-dashboard:${label}:${secret}`).digest();

export function createSessions(opts: { adminToken: string | undefined; linkSecret: string | undefined; ttlSeconds: number }): Sessions {
  const operator: Signer | undefined = opts.adminToken ? createSigner(derive(opts.adminToken, 'operator'), 'session.operator') : undefined;
  // Without a link secret, customer sessions are signed with a key derived from the admin token
  // (another label than the operator's); with neither, a key of this process (lost at restart, not
  // shared by --workers).
  const customerSecret = opts.linkSecret ?? opts.adminToken;
  const customer = createSigner(customerSecret ? derive(customerSecret, 'customer') : randomBytes(32), 'session.customer');
  const links: Signer | undefined = opts.linkSecret ? createSigner(derive(opts.linkSecret, 'link'), 'link') : undefined;

  const attrs = (req: IncomingMessage, maxAge: number) => {
    // Secure when the admin port is reached through TLS (a proxy in front says so).
    const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
    return `; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
  };

  return {
    operatorEnabled: operator !== undefined,
    linksEnabled: links !== undefined,
    start(viewer, req, nowMs) {
      const exp = Math.floor(nowMs / 1000) + opts.ttlSeconds;
      const value = viewer.kind === 'operator' ? `o.${operator!.sign({ exp })}` : `c.${customer.sign({ exp, a: viewer.accountId, k: viewer.keyId })}`;
      return `${COOKIE}=${value}${attrs(req, opts.ttlSeconds)}`;
    },
    end(req) {
      return `${COOKIE}=${attrs(req, 0)}`;
    },
    read(req, nowMs) {
      const value = cookie(req, COOKIE);
      if (!value) return null;
      if (value.startsWith('o.') && operator) return operator.verify(value.slice(2), nowMs) ? { kind: 'operator' } : null;
      if (value.startsWith('c.')) {
        const c = customer.verify(value.slice(2), nowMs);
        if (c && typeof c.a === 'string' && typeof c.k === 'string') return { kind: 'customer', accountId: c.a, keyId: c.k };
      }
      return null;
    },
    mintLink(accountId, ttlSeconds, nowMs) {
      if (!links) throw new Error('links need dashboard.linkSecret');
      const exp = Math.floor(nowMs / 1000) + ttlSeconds;
      return { token: links.sign({ exp, a: accountId }), exp };
    },
    readLink(token, nowMs) {
      const c = links?.verify(token, nowMs);
      return c && typeof c.a === 'string' ? { kind: 'link', accountId: c.a, link: token, exp: c.exp } : null;
    },
  };
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A form POST from another site is refused (CSRF). Browsers send Sec-Fetch-Site, which a page
 * cannot forge: only same-origin passes. Without it (older browsers) the Origin must name this
 * host; "null" (what a no-referrer page sends) is refused there. No Origin at all: not a
 * browser's form (curl), which carries no ambient cookie to abuse. SameSite=Strict is the
 * second wall: the cookie is not sent on a cross-site POST anyway.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host || origin === 'null') return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
