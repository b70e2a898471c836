// Redis Cluster's key -> slot mapping (CRC16/XMODEM of the hash tag, mod 16,384), and tags that
// land in a chosen slot range: how the ledger places a key on every shard (the epoch anchors).

export const SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** The slot of a key, as Redis computes it (only the first non-empty {...} counts). */
export function keySlot(key: string): number {
  let s = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) s = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const b of Buffer.from(s, 'utf8')) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc % SLOTS;
}

/**
 * `n` short hash tags, the i-th landing in the i-th of n equal slot ranges, so keys carrying
 * them spread over every shard that owns at least 16,384 / n slots, and move with their slots
 * on a resharding. Deterministic: every process finds the same tags.
 */
export function spreadTags(n: number): string[] {
  const width = SLOTS / n;
  const tags: Array<string | undefined> = new Array(n);
  let left = n;
  for (let i = 0; left > 0; i++) {
    const tag = `s${i.toString(36)}`;
    const r = Math.floor(keySlot(`{${tag}}`) / width);
    if (tags[r] === undefined) {
      tags[r] = tag;
      left--;
    }
  }
  return tags as string[];
}
