ALTER TABLE "connector_configs" ADD COLUMN "pending_writes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "pending_since" timestamp with time zone;