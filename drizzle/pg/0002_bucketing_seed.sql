-- Hand-edited after drizzle-kit: every existing flag is backfilled with its current name, the seed it has
-- always hashed with, so its buckets do not move; then the column becomes NOT NULL as the schema says.
ALTER TABLE "flags" ADD COLUMN "bucketing_seed" text;--> statement-breakpoint
UPDATE "flags" SET "bucketing_seed" = "name";--> statement-breakpoint
ALTER TABLE "flags" ALTER COLUMN "bucketing_seed" SET NOT NULL;
