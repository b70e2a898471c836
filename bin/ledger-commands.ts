// `tollgate ledger adopt-epoch`: the operator's way out after Redis came back empty (or was
// replaced): accept the ledger as it now is, under a new epoch, and seed the config's static
// accounts into it. Running processes that knew the old epoch serve again within
// redis.epochCheckMs (docs/reliability.md, "An empty Redis").

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';

export const LEDGER_USAGE = `ledger commands (talk to Redis directly, with the serve config):
  tollgate ledger adopt-epoch [--config FILE] [--from EPOCH]...
                   accept the ledger Redis holds now (after it came back empty) under a new
                   epoch, replacing the one this host remembers and each --from EPOCH (the
                   id in the "came back empty" log line); seeds the config's static accounts`;

export async function runLedgerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, from: { type: 'string', multiple: true } },
  });
  if (positionals[0] !== 'adopt-epoch' || positionals.length !== 1) {
    console.error(LEDGER_USAGE);
    return 2;
  }
  const path = values.config ?? process.env.TOLLGATE_CONFIG;
  if (!path) {
    console.error('tollgate ledger adopt-epoch: --config FILE (or TOLLGATE_CONFIG) names the serve config');
    return 2;
  }
  const { loadConfigFile } = await import('../config/index.js');
  const config = loadConfigFile(path);
  if (!config.redis) {
    console.error('tollgate ledger adopt-epoch: the config has no redis: section (the in-memory ledger has no epoch)');
    return 2;
  }
  const { adoptEpoch, epochKeys, memoryKey, readEpochMemory } = await import('../ledger/epoch.js');
  const { createRedisClient, createRedisLedger, describeRedisTarget } = await import('../ledger/index.js');
  const { createPricing } = await import('../pricing/index.js');
  const { seedAccounts } = await import('../proxy/app.js');
  const { url, cluster, sentinel, keyPrefix, journal } = config.redis;
  const target = { url, cluster, sentinel, commandTimeoutMs: 5000, connectTimeoutMs: 5000 };
  const client = createRedisClient(target);
  const file = join(journal.dir, 'epochs.json');
  const remembered = (await readEpochMemory(file))[memoryKey(describeRedisTarget(target, client), keyPrefix)];
  const replaced = [...(remembered ? [remembered] : []), ...(values.from ?? [])];
  try {
    await client.connect();
    const epoch = await adoptEpoch(client, keyPrefix, replaced, Date.now(), epochKeys(client, keyPrefix));
    const logger = pino({ level: 'warn' });
    const pricing = createPricing(config.pricing, config.tiers as Parameters<typeof createPricing>[1]);
    const ledger = await createRedisLedger({ redis: client, url, cluster, sentinel, keyPrefix, pricing, clock: { now: () => Date.now() }, logger, epoch: { file } });
    await seedAccounts(ledger, config, logger);
    await ledger.close();
    console.log(JSON.stringify({ epoch, replaced, accountsSeeded: config.accounts.length }));
    return 0;
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}
