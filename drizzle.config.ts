import { defineConfig } from 'drizzle-kit'

// One config for every dialect: `npm run db:generate` writes drizzle/sqlite (the default). Postgres
// (DATABASE_URL=postgres://…) gets its own folder from the same file when that dialect lands.
const url = process.env.DATABASE_URL ?? 'file:./data/flagpost.db'
const postgres = /^postgres(ql)?:\/\//.test(url)

export default defineConfig(postgres
  ? { dialect: 'postgresql', schema: './src/db/schema/pg.ts', out: './drizzle/pg', dbCredentials: { url } }
  : { dialect: 'sqlite', schema: './src/db/schema/sqlite.ts', out: './drizzle/sqlite', dbCredentials: { url } })
