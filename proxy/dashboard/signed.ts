// Signed, expiring tokens for the dashboard: session cookies and embeddable customer links.
// `payload.signature`, both base64url; the signature is HMAC-SHA256(key, purpose + "." + payload),
// so a token minted for one purpose (a link) never verifies as another (a session).
// Stateless on purpose: under --workers any worker's admin port accepts what another signed.

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface Claims {
  /** Expiry, seconds since the epoch. */
  exp: number;
  [k: string]: unknown;
}

export interface Signer {
  sign(claims: Claims): string;
  /** The claims of a well-signed, unexpired token; null for anything else. */
  verify(token: string, nowMs: number): Claims | null;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function createSigner(key: Buffer | string, purpose: string): Signer {
  const mac = (payload: string) => createHmac('sha256', key).update(`${purpose}.${payload}`).digest();
  return {
    sign(claims) {
      const payload = b64(JSON.stringify(claims));
      return `${payload}.${b64(mac(payload))}`;
    },
    verify(token, nowMs) {
      const dot = token.indexOf('.');
      if (dot <= 0 || token.length > 2048) return null;
      const payload = token.slice(0, dot);
      // Compared as text: base64url decoding ignores the last character's spare bits, so two
      // spellings would decode to one signature.
      const given = Buffer.from(token.slice(dot + 1));
      const want = Buffer.from(b64(mac(payload)));
      if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return null;
      }
      if (!claims || typeof claims !== 'object' || typeof (claims as Claims).exp !== 'number') return null;
      return (claims as Claims).exp * 1000 > nowMs ? (claims as Claims) : null;
    },
  };
}
