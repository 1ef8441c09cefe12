import type { FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify'
import Type, { type TObject } from 'typebox'
import { standardResponses } from '../schemas/common.js'
import { EnvironmentParams } from '../schemas/environments.js'

/**
 * The environment a request addresses (SPEC §9): the `/environments/{environment}` prefix, else a
 * client key's one environment, else the default. (The auth hook has checked the key covers it.)
 */
export function environmentOf (request: FastifyRequest): string {
  const params = request.params as { environment?: unknown } | undefined
  if (typeof params?.environment === 'string') return params.environment
  const principal = request.principal
  if (principal?.role === 'client') return principal.environments[0]
  return request.server.services.environments.defaultKey
}

/** Where a flag of the request's environment lives: under the prefix the request used, if any. */
export function flagLocation (request: FastifyRequest, name: string): string {
  const params = request.params as { environment?: unknown } | undefined
  const prefix = typeof params?.environment === 'string' ? `/environments/${encodeURIComponent(params.environment)}` : ''
  return `${prefix}/flags/${encodeURIComponent(name)}`
}

/**
 * Register the routes that address one environment (their config says so, for the auth hook). With
 * `prefixed` (registered under `/environments/{environment}`, SPEC §9) they are the same paths and
 * shapes a second time: each copy's params gain `environment` and its operationId `InEnvironment`,
 * so clients generated from the document get one call per route and environment form.
 */
export function environmentScoped (plugins: FastifyPluginAsync[], { prefixed }: { prefixed: boolean }): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      route.config = { ...route.config, environmentScoped: true }
      const schema = route.schema as Record<string, unknown> | undefined
      if (!prefixed || schema === undefined) return
      // A new schema object: Fastify hands the same options to the HEAD twin of a GET route.
      const params = schema.params as TObject | undefined
      const response = schema.response as Record<string, unknown> | undefined
      const ofrep = Array.isArray(schema.tags) && schema.tags.includes('ofrep')
      route.schema = {
        ...schema,
        // An unknown environment is a 404 (OFREP routes answer it in their own terms, as a 400 GENERAL).
        ...(response === undefined || ofrep || '404' in response ? {} : { response: { ...response, ...standardResponses(404) } }),
        params: Type.Object({ ...EnvironmentParams.properties, ...(params?.properties ?? {}) }),
        ...(typeof schema.operationId === 'string' ? { operationId: `${schema.operationId}InEnvironment` } : {}),
        ...(Array.isArray(schema.tags) ? { tags: [...schema.tags, 'environments'] } : {})
      }
    })
    for (const plugin of plugins) await app.register(plugin)
  }
}
