-- Hand-edited after drizzle-kit: existing data moves into environment `production` (SPEC §9), and
-- `development` exists too. The two environments are inserted before anything references them; every flag's
-- configuration is copied into flag_environments (served as before in production, off in development) BEFORE
-- the flags columns are dropped; the overrides rebuild selects the literal 'production' for the column the old
-- table lacks (drizzle's migrator runs in one transaction, where PRAGMA foreign_keys is a no-op, so the rebuild
-- copies the rows before dropping the old table, and flags itself is never rebuilt: DROP COLUMN keeps its rows
-- and so every cascade); change-log rows of flags and overrides are tagged 'production'; the meta marker
-- 'adopt_environment' lets the first start rename production to DEFAULT_ENVIRONMENT (adoptDefault).
CREATE TABLE `environments` (
	`key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`position` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `flag_environments` (
	`flag_id` text NOT NULL,
	`environment` text NOT NULL,
	`enabled` integer NOT NULL,
	`default_variant` text NOT NULL,
	`off_variant` text NOT NULL,
	`targeting_rules` text NOT NULL,
	PRIMARY KEY(`flag_id`, `environment`),
	FOREIGN KEY (`flag_id`) REFERENCES `flags`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`environment`) REFERENCES `environments`(`key`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `flag_environments_environment_idx` ON `flag_environments` (`environment`);--> statement-breakpoint
INSERT INTO `environments`("key", "name", "position", "created_at") VALUES
	('development', 'Development', 0, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
	('production', 'Production', 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));--> statement-breakpoint
INSERT INTO `flag_environments`("flag_id", "environment", "enabled", "default_variant", "off_variant", "targeting_rules")
	SELECT "id", 'production', "enabled", "default_variant", "off_variant", "targeting_rules" FROM `flags`;--> statement-breakpoint
INSERT INTO `flag_environments`("flag_id", "environment", "enabled", "default_variant", "off_variant", "targeting_rules")
	SELECT "id", 'development', 0, "default_variant", "off_variant", "targeting_rules" FROM `flags`;--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_overrides` (
	`flag_id` text NOT NULL,
	`environment` text NOT NULL,
	`subject` text NOT NULL,
	`subject_id` text NOT NULL,
	`enabled` integer NOT NULL,
	`variant` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`flag_id`, `environment`, `subject`, `subject_id`),
	FOREIGN KEY (`flag_id`) REFERENCES `flags`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`environment`) REFERENCES `environments`(`key`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_overrides`("flag_id", "environment", "subject", "subject_id", "enabled", "variant", "created_at", "updated_at") SELECT "flag_id", 'production', "subject", "subject_id", "enabled", "variant", "created_at", "updated_at" FROM `overrides`;--> statement-breakpoint
DROP TABLE `overrides`;--> statement-breakpoint
ALTER TABLE `__new_overrides` RENAME TO `overrides`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `overrides_subject_idx` ON `overrides` (`subject`,`subject_id`);--> statement-breakpoint
CREATE INDEX `overrides_state_idx` ON `overrides` (`flag_id`,`environment`,`subject`,`enabled`,`subject_id`);--> statement-breakpoint
ALTER TABLE `change_log` ADD `environment` text;--> statement-breakpoint
UPDATE `change_log` SET `environment` = 'production' WHERE `action` LIKE 'flag.%' OR `action` LIKE 'override.%';--> statement-breakpoint
INSERT INTO `meta`("key", "value") VALUES ('adopt_environment', 'production');--> statement-breakpoint
ALTER TABLE `flags` DROP COLUMN `enabled`;--> statement-breakpoint
ALTER TABLE `flags` DROP COLUMN `default_variant`;--> statement-breakpoint
ALTER TABLE `flags` DROP COLUMN `off_variant`;--> statement-breakpoint
ALTER TABLE `flags` DROP COLUMN `targeting_rules`;
