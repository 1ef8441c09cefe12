import { defineConfig } from 'drizzle-kit'

// One config for every dialect: drizzle-kit writes drizzle/sqlite by default and drizzle/pg when
// DATABASE_URL=postgres://…; `npm run db:generate` runs it for both (scripts/db-generate.ts).
const url = process.env.DATABASE_URL ?? 'file:./data/flagpost.db'
const postgres = /^postgres(ql)?:\/\//.test(url)

export default defineConfig(postgres
  ? { dialect: 'postgresql', schema: './src/db/schema/pg.ts', out: './drizzle/pg', dbCredentials: { url } }
  : { dialect: 'sqlite', schema: './src/db/schema/sqlite.ts', out: './drizzle/sqlite', dbCredentials: { url } })
