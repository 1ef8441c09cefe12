/** The ETag of a flag is its version. */
export const versionEtag = (version: number): string => `"${version}"`

/**
 * The version an `If-Match` header asks for: `"3"`, `W/"3"` or `3`; undefined for none or `*`.
 * Anything else can match no version, so it yields -1 and the write answers 412.
 */
export function parseIfMatch (header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined
  const match = /^\s*(?:W\/"(\d{1,15})"|"(\d{1,15})"|(\d{1,15}))\s*$/.exec(header)
  return match === null ? -1 : Number(match[1] ?? match[2] ?? match[3])
}
