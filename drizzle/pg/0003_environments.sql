-- Hand-edited after drizzle-kit: existing data moves into environment `production` (and `development` exists
-- too, SPEC §9): the two environments are inserted; every flag's configuration is copied into flag_environments
-- (served as before in production, off in development) BEFORE the flags columns are dropped; overrides get their
-- environment column with DEFAULT 'production' (then no default) BEFORE the new primary key names it; flag and
-- override change-log rows are marked production; and the meta marker 'adopt_environment' lets the first start
-- rename production to DEFAULT_ENVIRONMENT (EnvironmentRepository.adoptDefault).
CREATE TABLE "environments" (
	"key" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
INSERT INTO "environments" ("key", "name", "position", "created_at") VALUES ('development', 'Development', 0, now()), ('production', 'Production', 1, now());--> statement-breakpoint
CREATE TABLE "flag_environments" (
	"flag_id" text COLLATE "C" NOT NULL,
	"environment" text COLLATE "C" NOT NULL,
	"enabled" boolean NOT NULL,
	"default_variant" text NOT NULL,
	"off_variant" text NOT NULL,
	"targeting_rules" json NOT NULL,
	CONSTRAINT "flag_environments_flag_id_environment_pk" PRIMARY KEY("flag_id","environment")
);
--> statement-breakpoint
INSERT INTO "flag_environments" ("flag_id", "environment", "enabled", "default_variant", "off_variant", "targeting_rules") SELECT "id", 'production', "enabled", "default_variant", "off_variant", "targeting_rules" FROM "flags";--> statement-breakpoint
INSERT INTO "flag_environments" ("flag_id", "environment", "enabled", "default_variant", "off_variant", "targeting_rules") SELECT "id", 'development', false, "default_variant", "off_variant", "targeting_rules" FROM "flags";--> statement-breakpoint
DROP INDEX "overrides_state_idx";--> statement-breakpoint
ALTER TABLE "overrides" ADD COLUMN "environment" text COLLATE "C" DEFAULT 'production' NOT NULL;--> statement-breakpoint
ALTER TABLE "overrides" ALTER COLUMN "environment" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "overrides" DROP CONSTRAINT "overrides_flag_id_subject_subject_id_pk";--> statement-breakpoint
ALTER TABLE "overrides" ADD CONSTRAINT "overrides_flag_id_environment_subject_subject_id_pk" PRIMARY KEY("flag_id","environment","subject","subject_id");--> statement-breakpoint
ALTER TABLE "change_log" ADD COLUMN "environment" text;--> statement-breakpoint
UPDATE "change_log" SET "environment" = 'production' WHERE "action" LIKE 'flag.%' OR "action" LIKE 'override.%';--> statement-breakpoint
ALTER TABLE "flag_environments" ADD CONSTRAINT "flag_environments_flag_id_flags_id_fk" FOREIGN KEY ("flag_id") REFERENCES "flags"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flag_environments" ADD CONSTRAINT "flag_environments_environment_environments_key_fk" FOREIGN KEY ("environment") REFERENCES "environments"("key") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "flag_environments_environment_idx" ON "flag_environments" USING btree ("environment");--> statement-breakpoint
ALTER TABLE "overrides" ADD CONSTRAINT "overrides_environment_environments_key_fk" FOREIGN KEY ("environment") REFERENCES "environments"("key") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "overrides_state_idx" ON "overrides" USING btree ("flag_id","environment","subject","enabled","subject_id");--> statement-breakpoint
INSERT INTO "meta" ("key", "value") VALUES ('adopt_environment', 'production');--> statement-breakpoint
ALTER TABLE "flags" DROP COLUMN "enabled";--> statement-breakpoint
ALTER TABLE "flags" DROP COLUMN "default_variant";--> statement-breakpoint
ALTER TABLE "flags" DROP COLUMN "off_variant";--> statement-breakpoint
ALTER TABLE "flags" DROP COLUMN "targeting_rules";
