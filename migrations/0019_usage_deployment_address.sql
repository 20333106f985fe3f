-- An Azure OpenAI call's usage is grouped under its deployment's /v1 address (`azure-openai/<deployment>`,
-- `recordedModel` in src/llm/models.ts): before, an agent's or an embedding's key.use row named a bare
-- name (the agent's llm_model, the embedding deployment), so GET /usage?group_by=model added an Azure
-- deployment called gpt-4o-mini to OpenAI's gpt-4o-mini. The rows already stored are re-grouped here:
-- the groups of such a name, bare and prefixed, are rebuilt from their key.use rows by usage_add (0015),
-- the bare Azure rows under `azure-openai/<the name they carry>` (an agent's row names its llm_model:
-- which deployment answered was not recorded). The audit rows themselves stay as they are (chained);
-- running this twice gives the same groups.
-- Appends wait while this runs (the lock below), so no row is counted twice or missed.
LOCK TABLE audit_chain_heads IN EXCLUSIVE MODE;
--> statement-breakpoint
CREATE TEMP TABLE usage_regrouped ON COMMIT DROP AS
  SELECT DISTINCT a.tenant_id, (a.created_at AT TIME ZONE 'UTC')::date AS day, a.details ->> 'model' AS model
  FROM audit_logs a
  WHERE a.action = 'key.use' AND a.resource_id = 'azure-openai'
    AND jsonb_typeof(a.details -> 'model') = 'string' AND strpos(a.details ->> 'model', '/') = 0;
--> statement-breakpoint
DELETE FROM usage_daily u USING usage_regrouped g
  WHERE u.tenant_id = g.tenant_id AND u.day = g.day AND u.model IN (g.model, 'azure-openai/' || g.model);
--> statement-breakpoint
SELECT usage_add(a.tenant_id, jsonb_build_object(
  'id', a.id, 'user_id', a.user_id, 'outcome', a.outcome, 'created_at', a.created_at,
  'details', CASE WHEN a.resource_id = 'azure-openai' AND strpos(a.details ->> 'model', '/') = 0
                  THEN jsonb_set(a.details, '{model}', to_jsonb('azure-openai/' || (a.details ->> 'model')))
                  ELSE a.details END))
FROM audit_logs a
JOIN usage_regrouped g
  ON a.tenant_id = g.tenant_id AND (a.created_at AT TIME ZONE 'UTC')::date = g.day
 AND a.details ->> 'model' IN (g.model, 'azure-openai/' || g.model)
WHERE a.action = 'key.use'
ORDER BY a.created_at;
