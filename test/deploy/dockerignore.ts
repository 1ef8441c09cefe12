/**
 * `.dockerignore` as the builder reads it (moby/patternmatcher): one pattern a line, `#` comments,
 * `!` re-includes, `*` and `?` stay within one path segment, `**` spans any number of them, a
 * pattern that matches a parent folder matches everything in it, and the last matching pattern wins.
 */
interface Pattern { regex: RegExp, exclusion: boolean }

function toRegex (pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '*' && pattern[i + 1] === '*') {
      i++
      if (pattern[i + 1] === '/') { i++; source += '(.*/)?' } else source += '.*'
    } else if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else if (c === '\\' && i + 1 < pattern.length) source += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

/** A predicate: is this context path (relative, `/`-separated) left out of the build context? */
export function dockerignore (text: string): (path: string) => boolean {
  const patterns: Pattern[] = []
  for (const raw of text.split('\n')) {
    let line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const exclusion = line.startsWith('!')
    if (exclusion) line = line.slice(1).trim()
    line = line.replace(/\/+$/, '').replace(/^\/+/, '').replace(/(^|\/)\.\//g, '$1')
    if (line === '') continue
    patterns.push({ regex: toRegex(line), exclusion })
  }
  return (path) => {
    const parts = path.split('/')
    const candidates = parts.map((_p, i) => parts.slice(0, i + 1).join('/'))
    let excluded = false
    for (const { regex, exclusion } of patterns) {
      if (candidates.some((c) => regex.test(c))) excluded = !exclusion
    }
    return excluded
  }
}
