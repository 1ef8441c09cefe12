import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { build } from './helper.js'
import { documentOf, type Doc } from './openapi-support.js'

/**
 * The served OpenAPI document passes Redocly's `recommended` and Spectral's `oas` rulesets with no
 * error (issue 12), with the rule choices of redocly.yaml and .spectral.yaml at the repository root.
 * Warnings are printed, not failed on.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name)
const run = promisify(execFile)
// No telemetry and no update check: CI runs offline from everything but the registry.
const ENV = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }

interface Finding { rule: string, severity: 'error' | 'warning', where: string, message: string }

/** Output of a linter that exits non-zero when it finds errors: stdout either way. */
async function stdoutOf (file: string, args: string[]): Promise<string> {
  try {
    return (await run(file, args, { cwd: ROOT, env: ENV, maxBuffer: 64 * 1024 * 1024 })).stdout
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string, stderr?: string }
    if (stdout === undefined || stdout.trim() === '') throw new Error(`${file} failed: ${stderr ?? String(err)}`)
    return stdout
  }
}

async function redocly (path: string): Promise<Finding[]> {
  const out = JSON.parse(await stdoutOf(bin('redocly'), ['lint', path, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'])) as {
    problems: Array<{ ruleId: string, severity: string, message: string, location?: Array<{ pointer?: string }> }>
  }
  return out.problems.map((p) => ({
    rule: p.ruleId, severity: p.severity === 'error' ? 'error' : 'warning', where: p.location?.[0]?.pointer ?? '', message: p.message
  }))
}

async function spectral (path: string): Promise<Finding[]> {
  const out = JSON.parse(await stdoutOf(bin('spectral'), ['lint', path, '--ruleset', join(ROOT, '.spectral.yaml'), '--format', 'json', '--quiet'])) as
    Array<{ code: string, severity: number, message: string, path: string[] }>
  // Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
  return out.map((r) => ({ rule: r.code, severity: r.severity === 0 ? 'error' : 'warning', where: `/${r.path.join('/')}`, message: r.message }))
}

const LINTERS = { 'Redocly recommended': redocly, 'Spectral oas': spectral }
const show = (findings: Finding[]): string => findings.map((f) => `${f.severity} ${f.rule} ${f.where}: ${f.message}`).join('\n')

t.test('Redocly and Spectral find no error in the served document', async (t) => {
  const { app } = await build(t)
  const doc = await documentOf(app)
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-lint-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'openapi.json')
  writeFileSync(path, JSON.stringify(doc, null, 2))

  // A document that breaks rules of both sets: the linters and the parsing of their output can fail.
  const broken = structuredClone(doc) as Doc & { info: Record<string, unknown> }
  delete broken.servers
  delete broken.info.license
  const flags = broken.paths['/flags'] as Record<string, { security?: unknown, responses?: Record<string, unknown>, requestBody?: unknown }>
  delete flags.get.responses?.['200']
  delete flags.post.security
  flags.post.requestBody = { content: { 'application/json': { schema: { $ref: '#/components/schemas/NoSuchSchema' } } } }
  const brokenPath = join(dir, 'broken.json')
  writeFileSync(brokenPath, JSON.stringify({ ...broken, security: undefined }, null, 2))

  await Promise.all(Object.entries(LINTERS).map(([name, lint]) => t.test(name, async (t) => {
    const [findings, brokenFindings] = await Promise.all([lint(path), lint(brokenPath)])
    const errors = findings.filter((f) => f.severity === 'error')
    const warnings = findings.filter((f) => f.severity === 'warning')
    t.comment(`${name}: ${errors.length} errors, ${warnings.length} warnings${warnings.length > 0 ? `\n${show(warnings)}` : ''}`)
    t.strictSame(errors, [], `${name}: no error\n${show(errors)}`)
    t.ok(brokenFindings.some((f) => f.severity === 'error'), `${name} finds errors in a broken document:\n${show(brokenFindings)}`)
  })))
})
