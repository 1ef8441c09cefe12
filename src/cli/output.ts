/** How commands print: an aligned table or lines for people, one JSON document for scripts. */

// Control characters in a cell (a customer name with a newline, an escape sequence) would break the
// table or drive the terminal: show them escaped instead.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const visible = (text: string): string =>
  text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** Columns padded to their widest cell, two spaces apart, with an upper-case header row. */
export function table (headers: string[], rows: string[][]): string {
  const cells = [headers, ...rows].map((row) => row.map(visible))
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => [...(row[i] ?? '')].length)))
  return cells
    .map((row) => row.map((cell, i) => cell + ' '.repeat(widths[i] - [...cell].length)).join('  ').trimEnd())
    .join('\n')
}

/** A flag value as people read it: JSON text, so `"on"` (string) and `true` (boolean) differ. */
export const showValue = (value: unknown): string => JSON.stringify(value) ?? 'null'

export const orDash = (text: string | null | undefined): string => (text === null || text === undefined || text === '' ? '-' : text)

export function printLine (text: string): void {
  process.stdout.write(`${visible(text)}\n`)
}

export function printTable (headers: string[], rows: string[][]): void {
  process.stdout.write(`${table(headers, rows)}\n`)
}

export function printJson (data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`)
}

/** `--json` prints `data`; otherwise `human()` prints for people. */
export function emit (json: boolean, data: unknown, human: () => void): void {
  if (json) printJson(data)
  else human()
}
