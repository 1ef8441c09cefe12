import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

type Serializer = ReturnType<ReturnType<SerializerFactory>>

/**
 * Fastify's own response serializers (fast-json-stringify), each built when its route first answers
 * with that status instead of at start-up. Fastify builds one per route and status code when the app
 * starts, and checks each schema against the JSON Schema meta-schema first: with 60-odd routes, each
 * with its error statuses, that was a third of a cold start's CPU, paid again by every start for
 * statuses most processes never send. Built once per schema object: the error statuses of every
 * route share one problem schema.
 */
export function lazySerializers (): SerializerFactory {
  const build = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options)
    const built = new WeakMap<object, Serializer>()
    return (route) => {
      let serialize: Serializer | undefined
      return (doc) => {
        if (serialize === undefined) {
          const schema = route.schema as object
          serialize = built.get(schema) ?? compile(route)
          built.set(schema, serialize)
        }
        return serialize(doc)
      }
    }
  }
}
