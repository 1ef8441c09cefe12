/**
 * Public API of the evaluation engine: pure, no I/O. The snapshot compiles each flag once with
 * `compileFlag` and evaluates it with `evaluate`; the bucketing primitives are exported for tools
 * and tests that need flagd-compatible hashing on their own.
 */
export { compileFlag, evaluate, FlagCompileError } from './evaluate.js'
export type { CompiledFlag, Fallthrough } from './evaluate.js'
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
export type {
  EvaluationContext,
  EvaluationResult,
  FlagDefinition,
  FlagType,
  JsonValue,
  Reason,
  TargetingRules
} from './types.js'
