import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Reading the repository's Dockerfile the way the builder does, for the tests beside this file. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const readRepoFile = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

export interface Instruction { keyword: string, args: string, line: number }
export interface Stage { from: string, name?: string, instructions: Instruction[] }

/** Instructions in order: comments and parser directives dropped, `\` continuations joined. */
export function instructions (text: string): Instruction[] {
  const result: Instruction[] = []
  let pending: { text: string, line: number } | undefined
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd()
    if (/^\s*#/.test(line)) return
    if (pending === undefined && line.trim() === '') return
    const continued = line.endsWith('\\')
    const part = continued ? line.slice(0, -1) : line
    pending = pending === undefined ? { text: part.trim(), line: index + 1 } : { ...pending, text: `${pending.text} ${part.trim()}` }
    if (continued) return
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(pending.text) ?? []
    result.push({ keyword: keyword.toUpperCase(), args: args.trim(), line: pending.line })
    pending = undefined
  })
  return result
}

/** Build stages, each with the instructions after its FROM. */
export function stages (text: string): Stage[] {
  const result: Stage[] = []
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'))
      result.push({ from, ...(as?.toUpperCase() === 'AS' ? { name } : {}), instructions: [] })
    } else if (result.length > 0) {
      result[result.length - 1].instructions.push(instruction)
    }
  }
  return result
}

/** Words of a shell-form argument list; double or single quotes group, and are removed. */
export function words (args: string): string[] {
  return (args.match(/(?:[^\s"']+|"(?:\\.|[^"\\])*"|'[^']*')+/g) ?? [])
    .map((w) => w.replace(/"((?:\\.|[^"\\])*)"|'([^']*)'/g, (_m, dq?: string, sq?: string) => dq !== undefined ? dq.replace(/\\(.)/g, '$1') : sq ?? ''))
}

/** `KEY=value …` pairs (ENV, LABEL, ARG defaults). */
export function pairs (args: string): Record<string, string> {
  const result: Record<string, string> = {}
  for (const word of words(args)) {
    const eq = word.indexOf('=')
    if (eq > 0) result[word.slice(0, eq)] = word.slice(eq + 1)
    else result[word] = ''
  }
  return result
}

/** An exec-form (JSON array) argument list, or undefined for shell form. */
export function execForm (args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined
  const parsed: unknown = JSON.parse(args)
  return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined
}

/** `--name=value` options at the front, and what follows them. */
export function options (args: string): { flags: Record<string, string>, rest: string } {
  const flags: Record<string, string> = {}
  let rest = args
  for (let m = /^--([a-z-]+)=(\S+)\s*/.exec(rest); m !== null; m = /^--([a-z-]+)=(\S+)\s*/.exec(rest)) {
    flags[m[1]] = m[2]
    rest = rest.slice(m[0].length)
  }
  return { flags, rest }
}

export const ofKind = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword)

/** The environment a stage's image gives its processes (every ENV, in order). */
export const stageEnv = (stage: Stage): Record<string, string> =>
  Object.assign({}, ...ofKind(stage, 'ENV').map((i) => pairs(i.args))) as Record<string, string>
