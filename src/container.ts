import type { Config } from './config.js'
import { migrateDatabase, openDatabase } from './db/database.js'
import { randomUUID } from 'node:crypto'
import { createFlagSnapshot, type FlagSnapshot, type SnapshotLogger } from './cache/flag-snapshot.js'
import type { ChangeFeed } from './cache/redis-feed.js'
import type { SharedFlagCache } from './cache/redis-flag-cache.js'
import { createRepositories, type Repositories } from './repositories/index.js'
import { createApiKeyService, type ApiKeyService } from './services/api-key-service.js'
import { createEnvironmentService, type EnvironmentService } from './services/environment-service.js'
import { createFlagService, type FlagService } from './services/flag-service.js'
import { createBulkAnswerCache } from './services/bulk-answers.js'
import { createHistoryService, type HistoryService } from './services/history-service.js'
import { createStreamHub, type StreamHub } from './services/stream-hub.js'
import { createStreamTokens, type StreamTokens } from './services/stream-tokens.js'
import { createSubjectService, type SubjectService } from './services/subject-service.js'

export interface Services {
  flags: FlagService
  environments: EnvironmentService
  subjects: SubjectService
  apiKeys: ApiKeyService
  history: HistoryService
  /** Server-sent event streams (SPEC §12). */
  streams: StreamHub
  streamTokens: StreamTokens
}

export interface Container {
  config: Config
  repositories: Repositories
  snapshot: FlagSnapshot
  services: Services
  /** The Redis change feed when REDIS_URL is set. */
  feed?: ChangeFeed
  /** Close everything the container opened; safe to call twice. */
  close (): Promise<void>
}

/** A pino logger fits; `info` is optional so a bare snapshot logger does too. */
export type ContainerLogger = SnapshotLogger & { info?: (obj: object, msg: string) => void }
const silent: ContainerLogger = { warn () {}, debug () {} }

/** Change-log entries a resumed change stream replays at most (SPEC §12); past that it is told to reset. */
const STREAM_REPLAY_LIMIT = 1000
/** How often old change history is pruned when CHANGE_RETENTION_DAYS is set. */
const RETENTION_INTERVAL_MS = 6 * 3_600_000

/** Prune now and every RETENTION_INTERVAL_MS (unref'd); a failure waits for the next round. */
function startRetention (history: HistoryService, days: number, logger: ContainerLogger): NodeJS.Timeout {
  const prune = (): void => {
    history.prune(days).then(
      (deleted) => { if (deleted > 0) logger.info?.({ deleted, days }, 'pruned change history older than the retention') },
      (err: unknown) => { logger.warn({ err: { message: (err as Error).message } }, 'pruning change history failed; retried later') })
  }
  prune()
  const timer = setInterval(prune, RETENTION_INTERVAL_MS)
  timer.unref()
  return timer
}

/**
 * The composition root: database → repositories → snapshot → services. The server, the CLI, the
 * library and the tests all build the same container.
 */
export async function createContainer (config: Config, { logger = silent, poll = true, subscribe = true, repositories: given, planFromFlags }: {
  logger?: ContainerLogger
  poll?: boolean
  /** From how many flags single evaluations are served from the environment's plan (services/flag-service.ts; tests lower it). */
  planFromFlags?: number
  /** Listen for other instances' changes (with REDIS_URL). A one-shot CLI command only announces its own. */
  subscribe?: boolean
  /** Prebuilt repositories (the in-memory fakes): then no database is opened. */
  repositories?: Repositories
} = {}): Promise<Container> {
  const handle = given === undefined ? await openDatabase(config.databaseUrl) : undefined
  let feed: ChangeFeed | undefined
  try {
    if (handle !== undefined && config.migrateOnStart) await migrateDatabase(handle)
    const repositories = given ?? await createRepositories(handle!)
    // With Redis, instances share a copy of the flags and tell each other about commits at once;
    // the revision poll stays as the safety net.
    const feedLogger = { warn: (obj: object, msg: string) => logger.warn(obj, msg), info: (obj: object, msg: string) => logger.info?.(obj, msg) }
    // The Redis client (ioredis) is loaded only when there is a Redis: a start without one does not read its modules.
    let redis: typeof import('./cache/redis-feed.js') | undefined
    let shared: SharedFlagCache | undefined
    if (config.redisUrl !== undefined) {
      redis = await import('./cache/redis-feed.js')
      const namespace = redis.redisNamespace(await repositories.meta.deploymentId())
      feed = redis.createRedisFeed({ url: config.redisUrl, namespace, origin: randomUUID(), logger: feedLogger })
      shared = (await import('./cache/redis-flag-cache.js')).createRedisFlagCache(feed.commands, feed.namespace)
    }
    const snapshot = createFlagSnapshot({ repo: repositories.flags, environments: repositories.environments, logger, subjects: repositories.subjects, shared })
    const environments = createEnvironmentService({
      repo: repositories.environments, flags: repositories.flags, subjects: repositories.subjects, snapshot, defaultKey: config.defaultEnvironment
    })
    const apiKeys = createApiKeyService({ repo: repositories.apiKeys, writeKeys: config.apiKeys, readKeys: config.readApiKeys, hasEnvironment: (key) => snapshot.hasEnvironment(key), committed: () => snapshot.committed() })
    await apiKeys.load()
    // Before the first load: the default environment exists (or start-up stops), adopted once from a migrated database.
    await environments.ensureDefault()
    await snapshot.load()
    // Keys written by another instance are known here within the same bound as flags.
    snapshot.onAdvanced(() => apiKeys.load())
    if (poll) { snapshot.start(config.cacheRefreshMs); apiKeys.start() }
    if (redis !== undefined && feed !== undefined) redis.connectSnapshotToFeed(snapshot, feed, feedLogger, { subscribe })
    const answers = config.bulkCacheMb === 0 ? undefined : createBulkAnswerCache(config.bulkCacheMb * 1024 * 1024)
    const flags = createFlagService({ repo: repositories.flags, snapshot, subjects: repositories.subjects, answers, planFromFlags })
    const history = createHistoryService({ changes: repositories.changes, repo: repositories.flags, flags, snapshot })
    const streams = createStreamHub({
      source: history,
      revision: () => snapshot.revision,
      logger,
      options: { heartbeatMs: config.streamHeartbeatMs, bufferLimit: config.streamBufferBytes, replayLimit: STREAM_REPLAY_LIMIT }
    })
    const services: Services = {
      flags,
      environments,
      subjects: createSubjectService({ repo: repositories.subjects, flags: repositories.flags, snapshot }),
      apiKeys,
      history,
      streams,
      streamTokens: createStreamTokens(await repositories.meta.streamSecret())
    }
    // Streams hear of every revision the snapshot reaches: this process's writes, other instances'.
    snapshot.onAdvanced((revision) => { streams.advanced(revision) })
    const retention = config.changeRetentionDays > 0 ? startRetention(history, config.changeRetentionDays, logger) : undefined
    let closed = false
    return {
      config,
      repositories,
      snapshot,
      services,
      feed,
      async close () {
        if (closed) return
        closed = true
        streams.shutdown()
        if (retention !== undefined) clearInterval(retention)
        snapshot.close()
        await apiKeys.close()
        await feed?.close()
        await handle?.close()
      }
    }
  } catch (err) {
    await feed?.close()
    await handle?.close()
    throw err
  }
}
