ALTER TABLE "change_log" ADD COLUMN "flag_id" text;--> statement-breakpoint
ALTER TABLE "change_log" ADD COLUMN "flag" text;--> statement-breakpoint
CREATE INDEX "change_log_flag_id_idx" ON "change_log" USING btree ("flag_id","id");--> statement-breakpoint
CREATE INDEX "change_log_flag_idx" ON "change_log" USING btree ("flag","id");--> statement-breakpoint
-- Hand-edited after drizzle-kit: rows written before this migration get their flag's name from what
-- they recorded (the new name of a rename, the flag of an override) and, where a flag of that name
-- existed when the row was written and still exists, its id. Earlier names of a renamed flag and
-- deleted flags keep a null id: the flag filter (by name) finds them, a flag's history does not.
UPDATE "change_log" SET "flag" = CASE WHEN "action" LIKE 'flag.%' THEN "names"->>(json_array_length("names") - 1) WHEN "action" LIKE 'override.%' THEN "overrides"->0->>0 END;--> statement-breakpoint
UPDATE "change_log" SET "flag_id" = (SELECT "flags"."id" FROM "flags" WHERE "flags"."name" = "change_log"."flag" AND "flags"."created_at" <= "change_log"."at") WHERE "flag" IS NOT NULL;
