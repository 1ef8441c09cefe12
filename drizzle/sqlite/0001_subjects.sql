CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `overrides` (
	`flag_id` text NOT NULL,
	`subject` text NOT NULL,
	`subject_id` text NOT NULL,
	`enabled` integer NOT NULL,
	`variant` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`flag_id`, `subject`, `subject_id`),
	FOREIGN KEY (`flag_id`) REFERENCES `flags`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `overrides_subject_idx` ON `overrides` (`subject`,`subject_id`);--> statement-breakpoint
CREATE INDEX `overrides_state_idx` ON `overrides` (`flag_id`,`subject`,`enabled`,`subject_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `users_customer_idx` ON `users` (`customer_id`);--> statement-breakpoint
ALTER TABLE `change_log` ADD `users` text DEFAULT '[]' NOT NULL;