-- File paths in Unicode NFC (issue 22). This creates the table of renames still to do on the volumes; the rows
-- themselves are normalised by src/db/nfc-paths.ts, which Database.migrate() runs after the SQL migrations
-- (SQLite has no normalize(), and one implementation keeps both dialects alike).
CREATE TABLE "file_renames" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"from_path" text NOT NULL,
	"to_path" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "file_renames" ADD CONSTRAINT "file_renames_id_files_id_fk" FOREIGN KEY ("id") REFERENCES "public"."files"("id") ON DELETE cascade ON UPDATE no action;