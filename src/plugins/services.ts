import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Container, Services } from '../container.js'

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
    config: Config
    container: Container
  }
}

/** Decorates the finished services from the container; Fastify never builds them itself. */
export default fp(async function services (app, { container }: { container: Container }) {
  app.decorate('container', container)
  app.decorate('services', container.services)
  app.decorate('config', container.config)
}, { name: 'flagpost-services' })
