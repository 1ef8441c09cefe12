import { ATTRIBUTE_NAME } from '../engine/context.js'

/**
 * The rules for names and ids, each defined once: its pattern (for the route schemas), its test (for
 * code that is not behind a route schema: services, CLI, library) and the one message every edge
 * shows when a value breaks it.
 */
export interface NameRule {
  /** The regular expression, as JSON Schema's `pattern` takes it. */
  readonly pattern: string
  readonly regex: RegExp
  readonly maxLength: number
  /** What a valid value looks like, as a field problem's message ("must be …"). */
  readonly message: string
  test (value: string): boolean
}

function nameRule (regex: RegExp, maxLength: number, message: string): NameRule {
  return { pattern: regex.source, regex, maxLength, message, test: (value) => value.length <= maxLength && regex.test(value) }
}

/** Flag names are URL-safe: OpenFeature clients put the key in a path unescaped. */
export const FLAG_NAME_RULE = nameRule(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 128,
  'must be 1 to 128 characters: letters, digits, ".", "_" or "-", starting with a letter or digit')

/**
 * Customer and user ids travel in paths (`/customers/{id}`), so they are kept to characters that need
 * no escaping or only trivial escaping: letters, digits and `_ . @ + : | = ~ -` — emails, UUIDs,
 * integers, `auth0|abc` all fit. The first character is a letter, digit or `_`, so `.`/`..` can never
 * be an id that a client library would normalise away. No whitespace, no control characters (NUL
 * included), no `/ ? # %`.
 */
export const SUBJECT_ID_RULE = nameRule(/^[A-Za-z0-9_][A-Za-z0-9_.@+:|=~-]*$/, 256,
  'must be 1 to 256 characters: letters, digits or "_ . @ + : | = ~ -", starting with a letter, digit or "_"')

/** Context attribute names (the engine's rule): what rules and `bucket_by` name and a context provides. */
export const ATTRIBUTE_NAME_RULE = nameRule(ATTRIBUTE_NAME, 64,
  'must be 1 to 64 characters: letters, digits, "_", "." or "-", starting with a letter or "_"')

/** Environment keys (SPEC §9): short, lower-case, URL- and label-safe (`/environments/{env}`, metrics). */
export const ENVIRONMENT_KEY_RULE = nameRule(/^[a-z0-9][a-z0-9_-]{0,31}$/, 32,
  'must be 1 to 32 characters: lower-case letters, digits, "_" or "-", starting with a letter or digit')

/** API key names: the change log's actor for the key's writes, so printable and short. */
export const API_KEY_NAME_RULE = nameRule(/^[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,63}$/, 64,
  'must be 1 to 64 characters: letters, digits, spaces or "._@:-", starting with a letter or digit')
