CREATE TABLE "knowledge_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"embedding_provider" text DEFAULT 'openai' NOT NULL,
	"embedding_deployment" text,
	"updated_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- updated_at kept current like every other table's (0002, 0009, 0011).
CREATE TRIGGER knowledge_settings_set_updated_at BEFORE UPDATE ON knowledge_settings
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
