// Test helper: every key and value in a Redis database as one string, to search for plaintext.

import type { Redis } from 'ioredis';

export async function redisDump(client: Redis): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      parts.push(k);
      const type = await client.type(k);
      if (type === 'string') parts.push((await client.get(k)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(k)));
      else if (type === 'set') parts.push(JSON.stringify(await client.smembers(k)));
      else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(k, 0, -1, 'WITHSCORES')));
      else if (type === 'list') parts.push(JSON.stringify(await client.lrange(k, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(k, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}
