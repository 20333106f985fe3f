ALTER TABLE "agent_configs" ADD COLUMN "metadata" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "verification" text;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "verified_version" integer;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "last_verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "expires_at" timestamp with time zone;