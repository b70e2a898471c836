// The ledger contract on the embedded in-memory backend.

import t from 'tap';
import { pino } from 'pino';
import { createMemoryLedger } from '../ledger/index.js';
import { ledgerContract } from './helpers/ledger-contract.js';

ledgerContract(t, async (clock, pricing, extra) => {
  const ledger = createMemoryLedger({ pricing, clock, logger: pino({ level: 'silent' }), ...extra });
  return { ledger, close: () => ledger.close() };
});
