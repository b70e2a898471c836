// The provider registry: adapters by id, each with its routes compiled once for matching.

import type { ProviderConfig } from '../config/schema.js';
import type { ProviderAdapter, RouteSpec } from './providers/types.js';

export interface CompiledProvider {
  adapter: ProviderAdapter;
  /** Origin (scheme://host:port) and path prefix of the configured upstream; undefined: not configured. */
  origin: string | undefined;
  basePath: string;
  /** The platform's key; undefined: BYOK only (unless the adapter needs no key). */
  apiKey: string | undefined;
  timeoutMs: number | undefined;
  /** Lower-cased `x-provider-key-{id}` header name. */
  byokHeader: string;
  /** The same as the README writes it (`X-Provider-Key-Kokoro`), for messages. */
  byokHeaderName: string;
  /**
   * BYOK is real here: a customer's key replaces the platform's upstream key. Off for an
   * upstream that takes no key (then a key would make provider work free) or when the operator
   * turned it off (`providers.{id}.byok: false`).
   */
  byok: boolean;
  /** Why BYOK is refused (400 byok_not_enabled), built once. */
  byokRefusal: string;
  match(method: string, path: string): { route: RouteSpec; params: string[] } | undefined;
}

export function compileProvider(adapter: ProviderAdapter, cfg: ProviderConfig | undefined): CompiledProvider {
  const exact = new Map<string, RouteSpec>();
  const patterns: RouteSpec[] = [];
  for (const r of adapter.routes) {
    if (typeof r.path === 'string') exact.set(`${r.method} ${r.path}`, r);
    else patterns.push(r);
  }
  const base = cfg?.baseUrl ?? adapter.defaultBaseUrl;
  let origin: string | undefined;
  let basePath = '';
  if (base) {
    const u = new URL(base);
    origin = u.origin;
    basePath = u.pathname.replace(/\/+$/, '');
  }
  // An upstream that takes no key (self-hosted, no apiKey) never has BYOK, whatever the config.
  const keyless = adapter.keyOptional === true && !cfg?.apiKey;
  const byokHeaderName = `X-Provider-Key-${adapter.id.charAt(0).toUpperCase()}${adapter.id.slice(1)}`;
  const why = keyless ? 'its upstream takes no provider key' : 'the operator turned it off';
  return {
    adapter,
    origin,
    basePath,
    apiKey: cfg?.apiKey,
    timeoutMs: cfg?.timeoutMs,
    byokHeader: `x-provider-key-${adapter.id}`,
    byokHeaderName,
    byok: !keyless && (cfg?.byok ?? adapter.keyOptional !== true),
    byokRefusal: `BYOK is not enabled for ${adapter.id}: ${why}; drop the ${byokHeaderName} header to be metered`,
    match(method, path) {
      // Tolerate a trailing slash some clients add.
      const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
      const hit = exact.get(`${method} ${p}`);
      if (hit) return { route: hit, params: [] };
      for (const r of patterns) {
        if (r.method !== method) continue;
        const m = (r.path as RegExp).exec(p);
        if (m) return { route: r, params: m.slice(1).map((x) => x ?? '') };
      }
      return undefined;
    },
  };
}

export type Registry = ReadonlyMap<string, CompiledProvider>;

export function createRegistry(adapters: readonly ProviderAdapter[], config: Partial<Record<string, ProviderConfig>>): Registry {
  const m = new Map<string, CompiledProvider>();
  for (const a of adapters) m.set(a.id, compileProvider(a, config[a.id]));
  return m;
}

export interface Target {
  providerId: string;
  /** The upstream path after `/{provider}`, without the query. */
  path: string;
  /** `?…` or ''. */
  search: string;
}

/** Splits `/{provider}/{upstream path}?{query}`; the provider id is case-insensitive. */
export function parseTarget(url: string): Target {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const slash = pathname.indexOf('/', 1);
  return {
    providerId: (slash < 0 ? pathname.slice(1) : pathname.slice(1, slash)).toLowerCase(),
    path: slash < 0 ? '/' : pathname.slice(slash),
    search: q < 0 ? '' : url.slice(q),
  };
}

/** Dot segments, encoded dots/slashes and backslashes could walk off the route on the upstream. */
export function isUnsafePath(path: string): boolean {
  return /(^|\/)\.\.?(\/|$)|%2e|%2f|\\/i.test(path);
}

/**
 * A request target with a malformed percent-escape (`%zz`, a cut `%A`) or escapes that are not
 * UTF-8: 400 before routing (an upstream, or a decode here, would choke on it). Cheap when
 * there is no `%` at all, which is the common case.
 */
export function hasBadEscape(url: string): boolean {
  if (url.indexOf('%') < 0) return false;
  try {
    decodeURIComponent(url);
    return false;
  } catch {
    return true;
  }
}
