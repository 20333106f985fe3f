CREATE TABLE "connector_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connector_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"document_id" uuid NOT NULL,
	"content_hash" text NOT NULL,
	"source_url" text,
	"source_modified" text,
	"written_by_run" uuid,
	"write_kind" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "connector_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connector_id" uuid NOT NULL,
	"trigger" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"seen" integer DEFAULT 0 NOT NULL,
	"added" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"removed" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"embedding_calls" integer DEFAULT 0 NOT NULL,
	"error" jsonb,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "schedule_minutes" integer;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "next_sync_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connector_configs" ADD COLUMN "sync_cursor" jsonb;--> statement-breakpoint
ALTER TABLE "connector_items" ADD CONSTRAINT "connector_items_connector_id_connector_configs_id_fk" FOREIGN KEY ("connector_id") REFERENCES "public"."connector_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connector_runs" ADD CONSTRAINT "connector_runs_connector_id_connector_configs_id_fk" FOREIGN KEY ("connector_id") REFERENCES "public"."connector_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "connector_items_connector_external_uq" ON "connector_items" USING btree ("connector_id","external_id");--> statement-breakpoint
CREATE INDEX "connector_runs_tenant_connector_idx" ON "connector_runs" USING btree ("tenant_id","connector_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "connector_runs_one_active_uq" ON "connector_runs" USING btree ("connector_id") WHERE "connector_runs"."status" IN ('queued', 'running');--> statement-breakpoint
CREATE INDEX "connector_configs_next_sync_idx" ON "connector_configs" USING btree ("next_sync_at") WHERE "connector_configs"."next_sync_at" IS NOT NULL;