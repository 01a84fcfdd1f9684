CREATE TABLE "auth_attempts" (
	"client_key" text PRIMARY KEY NOT NULL,
	"window_start" bigint NOT NULL,
	"count" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deletion_receipts" (
	"id" text PRIMARY KEY NOT NULL,
	"deletion_id" text NOT NULL,
	"volume_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deletions" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"path" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volumes" (
	"id" text PRIMARY KEY NOT NULL,
	"machine_id" text NOT NULL,
	"region" text NOT NULL,
	"seen_at" timestamp with time zone NOT NULL,
	"stopped_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "files" ADD COLUMN "volume_id" text;--> statement-breakpoint
ALTER TABLE "deletion_receipts" ADD CONSTRAINT "deletion_receipts_deletion_id_deletions_id_fk" FOREIGN KEY ("deletion_id") REFERENCES "public"."deletions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "auth_attempts_window_start_idx" ON "auth_attempts" USING btree ("window_start");--> statement-breakpoint
CREATE UNIQUE INDEX "deletion_receipts_deletion_volume_unique" ON "deletion_receipts" USING btree ("deletion_id","volume_id");--> statement-breakpoint
CREATE INDEX "deletion_receipts_volume_id_idx" ON "deletion_receipts" USING btree ("volume_id");--> statement-breakpoint
CREATE INDEX "deletions_created_at_idx" ON "deletions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "files_volume_id_idx" ON "files" USING btree ("volume_id");