// The in-memory ledger's surface (the default without Redis): its factory, options and type.
// The ledger itself is composed in ledger/memory/ledger.ts from the parts beside it.

export { createMemoryLedger } from './memory/ledger.js';
export type { MemoryLedger, MemoryLedgerOptions } from './memory/options.js';
