/**
 * A definition the engine cannot compile. Thrown by `compileFlag` (and the rule compiler it calls)
 * only, never by `evaluate`, so the write path can reject the flag with a 400 naming `field`
 * (a dotted path into the definition, 0-based indices: `targeting_rules.rules.2.clauses.0.values.0`)
 * before it ever reaches a snapshot.
 */
export class FlagCompileError extends Error {
  readonly field: string
  constructor (field: string, message: string) {
    super(message)
    this.name = 'FlagCompileError'
    this.field = field
  }
}
