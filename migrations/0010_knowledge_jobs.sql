CREATE TABLE "knowledge_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"document_id" uuid NOT NULL,
	"agent_id" text,
	"title" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"content" text,
	"characters" integer NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"chunks" integer DEFAULT 0 NOT NULL,
	"embedding_calls" integer DEFAULT 0 NOT NULL,
	"error" jsonb,
	"created_by" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "knowledge_jobs_tenant_created_idx" ON "knowledge_jobs" USING btree ("tenant_id","created_at" DESC NULLS LAST);