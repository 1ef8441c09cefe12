/** JSON a route sends as text it built itself (Fastify sends a string as text/plain unless told). */
export const JSON_TYPE = 'application/json; charset=utf-8'
