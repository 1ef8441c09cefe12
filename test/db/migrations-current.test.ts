import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// Both committed migration folders must be up to date with their schema file: drizzle-kit, run on a
// copy of each folder, must find nothing to generate. It runs in a temporary directory with a
// relative --out and no config file, so it can never write into drizzle/ (an absolute --out is
// silently misread by drizzle-kit 0.31, and it exits 0 even when it fails: hence the checks on its
// output and on the folder contents, never on its exit code alone).

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DRIZZLE_KIT = join(ROOT, 'node_modules', '.bin', 'drizzle-kit')
const dialects = [
  { dialect: 'sqlite', schema: 'src/db/schema/sqlite.ts', folder: 'drizzle/sqlite', regenerate: 'npm run db:generate' },
  { dialect: 'postgresql', schema: 'src/db/schema/pg.ts', folder: 'drizzle/pg', regenerate: 'npm run db:generate' }
]

/** Every file under `dir` with a hash of its content. */
function contents (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    out[path.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(path)).digest('hex')
  }
  return out
}

for (const { dialect, schema, folder, regenerate } of dialects) {
  t.test(`${folder} is up to date with ${schema}`, async (t) => {
    const committed = join(ROOT, folder)
    const before = contents(committed)
    t.ok(Object.keys(before).some((f) => f.endsWith('.sql')), `${folder} holds migrations`)
    const work = mkdtempSync(join(tmpdir(), 'flagpost-migrations-'))
    t.teardown(() => rmSync(work, { recursive: true, force: true }))
    cpSync(committed, join(work, 'out'), { recursive: true })

    const run = spawnSync(DRIZZLE_KIT, ['generate', '--dialect', dialect, '--schema', join(ROOT, schema), '--out', 'out'], {
      cwd: work, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }
    })
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
    t.equal(run.error, undefined, 'drizzle-kit ran')
    t.match(output, /No schema changes, nothing to migrate/, `drizzle-kit finds nothing to generate; otherwise run ${regenerate}:\n${output}`)
    t.same(contents(join(work, 'out')), before, 'the copy is unchanged: no new migration or snapshot')
    t.same(contents(committed), before, `${folder} itself was not touched`)
  })
}

t.test('the Postgres migrations name no schema: tests and ?schema= deployments migrate into their own', async (t) => {
  const folder = join(ROOT, 'drizzle/pg')
  const files = readdirSync(folder).filter((f) => f.endsWith('.sql'))
  t.ok(files.length > 0)
  for (const file of files) {
    // drizzle-kit writes REFERENCES "public"."flags"; `npm run db:generate` strips it.
    t.notMatch(readFileSync(join(folder, file), 'utf8'), /"public"\./, `${file} has no "public". qualifier`)
  }
})
