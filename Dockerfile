# Flagpost: the HTTP service (and the flagpost CLI) in one image.
#   docker build -t flagpost .
#   docker run -p 5000:5000 -v flagpost-data:/data -e API_KEY=<a long random key> flagpost
# Defaults to SQLite in the /data volume; set DATABASE_URL=postgres://… (and REDIS_URL) to scale out,
# as docker-compose.yml does. test/deploy/ lints this file and runs its commands.

# Build stage: the same install and build as CI (.ci/run, npm test), then only production
# dependencies are kept. The full image has python3/make/g++ in case better-sqlite3 compiles.
FROM node:20-bookworm AS build
WORKDIR /app
# ui/ is an npm workspace (the admin UI): npm ci needs its package.json; the build then compiles the
# service and builds the UI into dist/ui, which the runtime stage gets with the rest of dist/.
COPY package.json package-lock.json ./
COPY ui/package.json ./ui/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The server and the flagpost binary are bundled after tsc (dist/bin/server.js, dist/bin/flagpost.js: scripts/bundle.ts).
COPY scripts/bundle.ts ./scripts/
COPY ui/index.html ui/vite.config.ts ui/tsconfig.json ui/tsconfig.node.json ./ui/
COPY ui/src ./ui/src
RUN npm run build
RUN npm prune --omit=dev

# Runtime stage: the same Debian release as the build (better-sqlite3's native module links
# against its glibc), no compilers, no sources.
FROM node:20-bookworm-slim AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="flagpost" \
      org.opencontainers.image.description="Feature-flag service: Fastify HTTP API, CLI and embeddable library over SQLite or Postgres" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5000 \
    DATABASE_URL=file:/data/flagpost.db
WORKDIR /app
# Owned by root and read-only to the service user: the process cannot rewrite its own code.
# package.json is needed at run time: it makes dist/*.js ES modules and gives the CLI its version.
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are read at run time from ../../drizzle relative to dist/db/ or the bundle in dist/bin/ (src/db/migrate.ts, pg-migrate.ts).
COPY drizzle ./drizzle
# The SQLite volume must be writable by the service user; created before VOLUME so the ownership sticks.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 5000
# Liveness without curl (the slim image has none): Node 20's fetch, the port from the environment.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/healthz', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself; src/server.ts drains in-flight requests,
# closes the pools and exits 0 (within 10 s; give it a stop grace period above that).
STOPSIGNAL SIGTERM
# The node options are npm start's (package.json config.node_options; test/deploy/dockerfile.test.ts
# holds the two together): V8's young generation fixed at 8 MiB, kept after idle spells and below the size at
# which Node's per-request ticks slow down (bench/README, twenty-eighth session), and no memory-reducing
# collection after idle spells, after which they slow down too (twenty-ninth session).
CMD ["node", "--min-semi-space-size=8", "--max-semi-space-size=8", "--no-memory-reducer", "dist/bin/server.js"]
