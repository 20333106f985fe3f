CREATE TABLE "knowledge_job_documents" (
	"job_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"document_id" uuid NOT NULL,
	"agent_id" text,
	"title" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"content" text,
	"characters" integer NOT NULL,
	"chunks" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "knowledge_job_documents_job_id_position_pk" PRIMARY KEY("job_id","position")
);
--> statement-breakpoint
ALTER TABLE "knowledge_jobs" ALTER COLUMN "document_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "knowledge_job_documents" ADD CONSTRAINT "knowledge_job_documents_job_id_knowledge_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."knowledge_jobs"("id") ON DELETE cascade ON UPDATE no action;