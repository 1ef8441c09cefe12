import type { Redis } from 'ioredis'
import type { StoredFlag } from '../repositories/flag-repository.js'
import { settleWithin } from '../settle-within.js'
import { REDIS_BOUNDS } from './redis-feed.js'

/**
 * The shared Redis copy of flag definitions, one hash per flag name: `r` the revision the entry is
 * exactly the database's state at (writers only store what a checked catch-up read at that
 * revision), `v` the stored flag in every environment as a JSON array (`null`: no flag by that name,
 * a tombstone).
 * The writer fills it after its commit, before it publishes; the other instances read it first and
 * the database only for what is missing or older than what they need (and then write it back).
 * Overrides and users are not copied: single override changes are patched from the database row by
 * row, and a flag's override list can be far larger than the flag.
 */
export interface SharedFlagCache {
  /**
   * Entries current at `revision` or later: a flag, or null when the name has no flag. Names that
   * are missing, older, or unreadable (Redis down) are left out; the caller reads them from the DB.
   */
  read (names: string[], revision: number): Promise<Map<string, StoredFlag[] | null>>
  /**
   * Store entries known to be current at `revision`. An entry already at that revision or later is
   * kept, so a slow writer never overwrites a newer copy. Never throws: Redis being down only means
   * the next reader goes to the database.
   */
  write (entries: Map<string, StoredFlag[] | null>, revision: number): Promise<void>
}

/** Entries expire unless rewritten: a flag nobody changes for a day is read once more from the DB. */
const TTL_SECONDS = 24 * 60 * 60

/** Set the entry unless it is already at this revision or later; one round trip, atomic. */
const PUT_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'r')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[1], 'v', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`

type CacheClient = Redis & { flagpostPutIfNewer (key: string, revision: number, value: string, ttl: number): Promise<number> }

type Revivable = Omit<StoredFlag, 'createdAt' | 'updatedAt'> & { createdAt: string, updatedAt: string }
const revive = (raw: string): StoredFlag[] | null => {
  const views = JSON.parse(raw) as Revivable[] | null
  return views === null ? null : views.map((flag) => ({ ...flag, createdAt: new Date(flag.createdAt), updatedAt: new Date(flag.updatedAt) }))
}

/**
 * `bounds` (REDIS_BOUNDS by default): a read or a write waits at most `cacheRead` ms, and after one
 * that did not answer in time the copy is skipped for `cacheBackoff` ms. Both lie on a write's path
 * (its catch-up reads and refreshes the copy), so a Redis that stalls costs a write at most
 * `cacheRead` ms once per backoff, not a command timeout per call.
 */
export function createRedisFlagCache (redis: Redis, namespace: string, bounds: { cacheRead: number, cacheBackoff: number } = REDIS_BOUNDS): SharedFlagCache {
  if (!('flagpostPutIfNewer' in redis)) redis.defineCommand('flagpostPutIfNewer', { numberOfKeys: 1, lua: PUT_IF_NEWER })
  const client = redis as CacheClient
  // The prefix tags the stored shape; an entry of another shape is never read. `flag:` was written before
  // checked catch-ups, `flag2:` before flags had a bucketing seed (read as is, it would hash by the name),
  // `flag3:` before environments (one flag, not its views in every environment).
  const key = (name: string): string => `${namespace}flag4:${name}`
  let skipUntil = 0
  const timedOut = (): void => { skipUntil = performance.now() + bounds.cacheBackoff }
  // While the connection is down, or just after it stopped answering, skip Redis at once instead of
  // waiting for a command to fail.
  const usable = (): boolean => client.status === 'ready' && performance.now() >= skipUntil

  return {
    async read (names, revision) {
      const found = new Map<string, StoredFlag[] | null>()
      if (names.length === 0 || !usable()) return found
      const pipeline = client.pipeline()
      for (const name of names) pipeline.hmget(key(name), 'r', 'v')
      const replies = await settleWithin(pipeline.exec(), bounds.cacheRead, null, timedOut)
      try {
        for (const [i, [err, reply]] of (replies ?? []).entries()) {
          const [r, v] = (reply ?? []) as Array<string | null>
          if (err !== null || r === null || v === null || Number(r) < revision) continue
          found.set(names[i], revive(v))
        }
      } catch {
        found.clear()
      }
      return found
    },
    async write (entries, revision) {
      if (entries.size === 0 || !usable()) return
      // Best effort by design (see the interface): a failure or a timeout only skips the copy.
      const pipeline = client.pipeline() as unknown as CacheClient
      for (const [name, flag] of entries) pipeline.flagpostPutIfNewer(key(name), revision, JSON.stringify(flag), TTL_SECONDS)
      await settleWithin((pipeline as unknown as ReturnType<Redis['pipeline']>).exec(), bounds.cacheRead, null, timedOut)
    }
  }
}
