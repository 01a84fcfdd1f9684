CREATE TABLE `auth_attempts` (
	`client_key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `auth_attempts_window_start_idx` ON `auth_attempts` (`window_start`);--> statement-breakpoint
CREATE TABLE `deletion_receipts` (
	`id` text PRIMARY KEY NOT NULL,
	`deletion_id` text NOT NULL,
	`volume_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`deletion_id`) REFERENCES `deletions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deletion_receipts_deletion_volume_unique` ON `deletion_receipts` (`deletion_id`,`volume_id`);--> statement-breakpoint
CREATE INDEX `deletion_receipts_volume_id_idx` ON `deletion_receipts` (`volume_id`);--> statement-breakpoint
CREATE TABLE `deletions` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`path` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deletions_created_at_idx` ON `deletions` (`created_at`);--> statement-breakpoint
CREATE TABLE `volumes` (
	`id` text PRIMARY KEY NOT NULL,
	`machine_id` text NOT NULL,
	`region` text NOT NULL,
	`seen_at` integer NOT NULL,
	`stopped_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `files` ADD `volume_id` text;--> statement-breakpoint
CREATE INDEX `files_volume_id_idx` ON `files` (`volume_id`);