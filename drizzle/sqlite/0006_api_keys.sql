-- Hand-edited after drizzle-kit: API keys get roles (SPEC §10). A stored key's scope becomes its role (write →
-- admin, read → viewer) before the column goes; SQLite adds a NOT NULL column only with a default, which the
-- service never relies on (it always writes the role). A key stored before has no recorded prefix: 'fp_'.
ALTER TABLE `api_keys` ADD `role` text NOT NULL DEFAULT 'admin';--> statement-breakpoint
UPDATE `api_keys` SET `role` = CASE `scope` WHEN 'write' THEN 'admin' ELSE 'viewer' END;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `environments` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `prefix` text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE `api_keys` SET `prefix` = 'fp_';--> statement-breakpoint
ALTER TABLE `api_keys` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `last_used_at` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_name_unique` ON `api_keys` (`name`);--> statement-breakpoint
ALTER TABLE `api_keys` DROP COLUMN `scope`;
