// Model-name normalisation: the canonical name a provider's model is priced under.
//
// Invariant: normalisation only removes parts that name a snapshot of the same model (a
// vendor namespace, a release date, `-latest`) or applies an exact alias. It never matches
// by prefix, so `gpt-4.1-mini-foo`, `gpt-4` and `gpt-4o` stay themselves and stay unpriced
// rather than being billed as `gpt-4.1`.

/** Namespaces a provider's model ids may carry besides `<provider>/` (OpenRouter-style ids). */
const VENDOR_PREFIXES: Readonly<Record<string, readonly string[]>> = {
  groq: ['meta-llama/'], // https://console.groq.com/docs/models
  mistral: ['mistralai/'],
};

/** Snapshot suffixes any provider uses: `-2025-04-14` (OpenAI), `-20250514` (Anthropic). */
const DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/;
const LATEST_SUFFIX = /-latest$/;

/**
 * Provider-specific snapshot suffixes. Anthropic's `claude-sonnet-4-0` is an alias of
 * `claude-sonnet-4` (https://docs.anthropic.com/en/docs/about-claude/models); only `-0` after a
 * major version, so `claude-sonnet-4-5` (a different model) is left alone.
 */
const PROVIDER_SUFFIXES: Readonly<Record<string, readonly RegExp[]>> = {
  anthropic: [/(?<=^claude-[a-z]+-\d+)-0$/],
};

/**
 * The canonical name of `model` at `provider`: lower-cased, alias applied, vendor prefix and
 * snapshot suffixes removed. `aliases` is keyed `provider:alias` (lower case); its values are
 * canonical names, only lower-cased and stripped of snapshot suffixes.
 */
export function normalizeModel(
  provider: string,
  model: string,
  aliases: ReadonlyMap<string, string>,
): string {
  const p = provider.trim().toLowerCase();
  const raw = model.trim().toLowerCase();
  const direct = aliases.get(`${p}:${raw}`);
  if (direct !== undefined) return stripSnapshot(p, stripVendor(p, direct.trim().toLowerCase()));

  const stripped = stripSnapshot(p, stripVendor(p, raw));
  const aliased = aliases.get(`${p}:${stripped}`);
  if (aliased !== undefined) return stripSnapshot(p, stripVendor(p, aliased.trim().toLowerCase()));
  return stripped;
}

function stripVendor(provider: string, model: string): string {
  for (const prefix of [`${provider}/`, ...(VENDOR_PREFIXES[provider] ?? [])]) {
    if (model.startsWith(prefix) && model.length > prefix.length) return model.slice(prefix.length);
  }
  return model;
}

function stripSnapshot(provider: string, model: string): string {
  let out = model.replace(DATE_SUFFIX, '').replace(LATEST_SUFFIX, '');
  for (const suffix of PROVIDER_SUFFIXES[provider] ?? []) out = out.replace(suffix, '');
  // A name that is nothing but a suffix stays as it was: never price an empty name.
  return out === '' ? model : out;
}
