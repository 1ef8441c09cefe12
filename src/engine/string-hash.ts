/**
 * A string as a signed 32-bit integer: FNV-1a over its UTF-16 code units (for ASCII, the published FNV-1a of
 * its bytes). Cheap on short strings and spread well enough to find a string among others by number:
 * contexts asked once (services/bulk-answers.ts), flag names and subject ids (engine/name-table.ts).
 */
export function fnv1a (text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  // The empty string's is the offset basis itself, outside the int32 range Math.imul keeps every other in.
  return hash | 0
}
