// Config domain: the schema, its defaults, and the loader.
export * from './schema.js';
export { ConfigError, loadConfigFile, parseConfig, validateConfig, substituteEnv } from './load.js';
