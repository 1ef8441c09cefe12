// One style for the whole tree: neostandard (standard's rules for ESLint 9) with its TypeScript support.
// `npm run lint` (part of `npm test`, so CI) checks every source, test, script and bench file.
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: [...resolveIgnoresFromGitignore(), 'src/client/schema.ts', 'drizzle/**'] }),
  {
    rules: {
      // `void promise()` marks a promise deliberately not awaited (a background refresh, a shutdown);
      // as a statement only, so `void` never hides a value in an expression.
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
