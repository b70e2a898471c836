// The pricing domain's public surface: its types, the seed data, and the `createPricing` factory.

export * from './types.js';
export { createPricing, type PricingConfigError } from './create-pricing.js';
export { validatePricingOverrides } from './overrides.js';
export { validateTierOverrides, SEED_TIERS } from './tiers.js';
export { SEED_PRICES, SEED_ALIASES, STT_PROVIDER_ROWS } from './table.js';
