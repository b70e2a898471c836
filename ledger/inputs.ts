// Validation of what callers hand the ledger, and the key-hash helpers; shared by both backends.

import { createHash } from 'node:crypto';
import { MODALITIES, TIER_IDS, type Pricing, type TierId } from '../pricing/types.js';
import { tierParams, type TierParams } from './account-state.js';
import { createLedgerError } from './errors.js';
import { isTimeZone } from './usage-history.js';
import type { AccountPatch, ReserveInput, SettleInput } from './types.js';

/** Braces would break the `{acct:ID}` hash tag; whitespace would break identifiers and logs. */
const ACCOUNT_ID = /^[^\s{}]{1,128}$/;
const REQUEST_ID = /^\S{1,256}$/;
const KEY_HASH = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{12}$/;

function invalid(message: string): never {
  throw createLedgerError('invalid_input', message);
}

export function checkAccountId(id: string): void {
  if (typeof id !== 'string' || !ACCOUNT_ID.test(id)) invalid(`invalid account id ${JSON.stringify(id)}`);
}

export function checkTier(tier: string): asserts tier is TierId {
  if (!(TIER_IDS as readonly string[]).includes(tier)) invalid(`unknown tier ${JSON.stringify(tier)}`);
}

const isMicro = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function checkReserve(input: ReserveInput): void {
  checkAccountId(input.accountId);
  if (!REQUEST_ID.test(input.requestId)) invalid('invalid requestId');
  if (!isMicro(input.microCredits)) invalid(`reserve: microCredits must be a non-negative integer, got ${input.microCredits}`);
  if (!Number.isSafeInteger(input.ttlMs) || input.ttlMs <= 0) invalid(`reserve: ttlMs must be a positive integer, got ${input.ttlMs}`);
  const floor = input.floorMicro ?? 0;
  if (!isMicro(floor) || floor > input.microCredits) invalid(`reserve: floorMicro must be an integer from 0 to microCredits, got ${floor}`);
  if (floor > 0 && !MODALITIES.includes(input.modality!)) invalid(`reserve: a floor needs a modality, got ${JSON.stringify(input.modality)}`);
}

export function checkSettle(input: SettleInput): void {
  checkAccountId(input.accountId);
  if (!REQUEST_ID.test(input.requestId)) invalid('invalid requestId');
  if (!MODALITIES.includes(input.modality)) invalid(`unknown modality ${JSON.stringify(input.modality)}`);
  if (!isMicro(input.microCredits)) invalid(`settle: microCredits must be a non-negative integer, got ${input.microCredits}`);
  const units = input.units as Record<string, unknown> | undefined;
  for (const k in units) {
    const v = units[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) invalid(`settle: units.${k} must be a non-negative number`);
  }
}

export function checkPatch(patch: AccountPatch): void {
  if (patch.tier !== undefined) checkTier(patch.tier);
  if (patch.overageCapMicro !== undefined && patch.overageCapMicro !== null && !isMicro(patch.overageCapMicro)) {
    invalid('overageCapMicro must be a non-negative integer or null');
  }
  if (patch.timeZone !== undefined && patch.timeZone !== null && !isTimeZone(patch.timeZone)) invalid(`timeZone: not an IANA time zone: ${JSON.stringify(patch.timeZone)}`);
  if (patch.period) {
    const { start, end } = patch.period;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
      invalid(`period must be integer ms with end > start, got ${JSON.stringify(patch.period)}`);
    }
  }
}

/** SHA-256 hex of an API key: the only form in which keys are stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The public id of a key: the first 12 hex chars of its hash. */
export function keyIdOf(keyHash: string): string {
  return keyHash.slice(0, 12);
}

export function normalizeKeyHash(keyHash: string): string {
  const h = String(keyHash).toLowerCase();
  if (!KEY_HASH.test(h)) invalid('a key hash must be 64 hex characters (SHA-256)');
  return h;
}

/** 'hash' for a full hash, 'id' for a key id, null for neither. */
export function keyRefKind(idOrHash: string): 'hash' | 'id' | null {
  const s = String(idOrHash).toLowerCase();
  if (KEY_HASH.test(s)) return 'hash';
  if (KEY_ID.test(s)) return 'id';
  return null;
}

/** The configured tiers, by id: what both backends apply (operator overrides included). */
export function tierTable(pricing: Pricing): Record<TierId, TierParams> {
  const out = {} as Record<TierId, TierParams>;
  for (const id of TIER_IDS) out[id] = tierParams(pricing.tier(id));
  return out;
}

/** The same table as the scripts' ARGV: "id:includedMicro:hardCap:carryoverPeriods;...". */
export function encodeTierTable(table: Record<TierId, TierParams>): string {
  return TIER_IDS.map((id) => {
    const t = table[id];
    return `${id}:${t.includedMicro}:${t.hardCap ? 1 : 0}:${t.carryoverPeriods}`;
  }).join(';');
}
