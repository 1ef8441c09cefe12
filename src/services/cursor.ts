import { invalidField } from '../errors.js'

/** Opaque keyset cursors: the position of the last item of a page, base64url-encoded. */
export const encodeCursor = (position: string): string => Buffer.from(position, 'utf8').toString('base64url')

/** The position in a cursor; a cursor this API did not make (or not of this list's `shape`) is a 400. */
export function decodeCursor (cursor: string | undefined, shape?: RegExp): string | undefined {
  if (cursor === undefined) return undefined
  const position = Buffer.from(cursor, 'base64url').toString('utf8')
  if (position === '' || position.includes('\0') || encodeCursor(position) !== cursor || (shape !== undefined && !shape.test(position))) {
    throw invalidField('cursor', 'is not a cursor returned by this API')
  }
  return position
}
