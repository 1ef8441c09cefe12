/**
 * Public API of the evaluation engine: pure, no I/O. The snapshot compiles each flag once with
 * `compileFlag` and evaluates it with `evaluate`; bulk evaluation lays many out at once with
 * `compileBulk` and evaluates them with `runBulk`. The bucketing primitives are exported for tools
 * and tests that need flagd-compatible hashing on their own, the rule compiler and value readers
 * for tools that check or explain rules.
 */
export { compileFlag, evaluate, fixedResult, FlagCompileError, isServableMetadata } from './evaluate.js'
export { compileBulk, recordReadsCustomer, runBulk, runOne } from './bulk-program.js'
export type { BulkProgram } from './bulk-program.js'
export { memoized, resultMemo } from './memo.js'
export type { ResultMemo } from './memo.js'
export { ATTRIBUTE_NAME, MAX_CONTEXT_ATTRIBUTES, readContext } from './context.js'
export type { ContextInput, ContextInputValue, ContextProblem, ContextReading } from './context.js'
export type { CompiledFlag, Fallthrough, Outcomes, RuleOutcomes, Served } from './evaluate.js'
export { compileClause, compileRules, RULE_LIMITS } from './rules.js'
export { checkRegexSafety, MAX_PATTERNS_PER_FLAG } from './regex-safety.js'
export type { CompiledRule, Predicate } from './rules.js'
export { compareVersion, parseVersion, toEpochMs, toNumber } from './values.js'
export {
  bucketIndex,
  compilePercentageSplit,
  compileSplit,
  hashBucketKey,
  indexForHash,
  pickVariant,
  scaleWeight
} from './bucketing.js'
export type { CompiledSplit } from './bucketing.js'
export { OPERATORS, REASONS } from './types.js'
export type {
  Clause,
  EvaluationContext,
  EvaluationResult,
  FlagDefinition,
  FlagOverrides,
  FlagType,
  JsonValue,
  Operator,
  OverrideSpec,
  Reason,
  Rule,
  Serve,
  TargetingRules
} from './types.js'
