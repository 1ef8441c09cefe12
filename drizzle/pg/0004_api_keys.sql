-- Hand-edited after drizzle-kit: API keys get roles (SPEC §10). A stored key's scope becomes its role (write →
-- admin, read → viewer) before the column goes; then role is NOT NULL without a default, as the schema says.
-- A key stored before has no recorded prefix: 'fp_'.
ALTER TABLE "api_keys" ADD COLUMN "role" text;--> statement-breakpoint
UPDATE "api_keys" SET "role" = CASE "scope" WHEN 'write' THEN 'admin' ELSE 'viewer' END;--> statement-breakpoint
ALTER TABLE "api_keys" ALTER COLUMN "role" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "environments" json DEFAULT '[]'::json NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "prefix" text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE "api_keys" SET "prefix" = 'fp_';--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" DROP COLUMN "scope";--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_name_unique" UNIQUE("name");
