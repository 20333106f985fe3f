CREATE TABLE "usage_budgets" (
	"tenant_id" uuid NOT NULL,
	"api_key_id" text,
	"monthly_limit_usd" numeric(14, 2) NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_budgets_scope_uq" UNIQUE NULLS NOT DISTINCT("tenant_id","api_key_id")
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"tenant_id" uuid NOT NULL,
	"day" date NOT NULL,
	"model" text NOT NULL,
	"agent_id" text,
	"user_id" text,
	"api_key_id" text,
	"requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" numeric(20, 9) DEFAULT '0' NOT NULL,
	"unpriced_requests" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_group_uq" UNIQUE NULLS NOT DISTINCT("tenant_id","day","model","agent_id","user_id","api_key_id")
);
