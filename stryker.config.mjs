// Mutation testing of the evaluation engine: `npm run mutate` (not part of `npm test` or CI).
// Command runner: every mutant runs the pure engine tests in one Node process through tsx
// (no build, no database); mutants are written into Stryker's sandbox, never the working tree.
const engineTests =
  "const fs=await import('node:fs');" +
  "for (const f of fs.readdirSync('test/engine').filter((n)=>n.endsWith('.test.ts')).sort())" +
  " await import('./test/engine/'+f)"

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['src/engine/**/*.ts'],
  testRunner: 'command',
  commandRunner: { command: `node --import tsx --input-type=module -e "${engineTests}"` },
  coverageAnalysis: 'off',
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: 'reports/.stryker-tmp',
  // Only what the engine tests need goes into the sandbox (a concurrent tap run churns .tap/).
  ignorePatterns: ['.tap', 'coverage', 'dist', 'data', 'tmp', 'bench', 'deploy', 'drizzle', 'reports'],
}
