-- Hand-edited after drizzle-kit: SQLite adds a NOT NULL column only with a default, and a table rebuild
-- would cascade-delete overrides. Every existing flag is backfilled with its current name, the seed it has
-- always hashed with, so its buckets do not move. The service always writes the seed; '' is never relied on.
ALTER TABLE `flags` ADD `bucketing_seed` text NOT NULL DEFAULT '';--> statement-breakpoint
UPDATE `flags` SET `bucketing_seed` = `name`;
