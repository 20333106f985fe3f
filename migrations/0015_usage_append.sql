-- Usage rollup (README "Usage and budgets"): each key.use row appended to a tenant's audit chain
-- also adds its request, tokens and cost to usage_daily, in the same statement (audit_append, as in
-- 0006 plus the usage_add call), so a redelivered event counts as little as it is stored: once.
-- Appends wait while this migration runs (the lock below), so the backfill of the key.use rows
-- already stored and the new function never miss or double a row.
LOCK TABLE audit_chain_heads IN EXCLUSIVE MODE;
--> statement-breakpoint
-- Adds one key.use record (the canonical JSON audit_append parsed) to its usage_daily group. Values of
-- an unexpected type count as absent; anything else that fails is logged as a warning, never allowed
-- to refuse the audit batch (the audit row, with its own usage, is stored either way).
CREATE OR REPLACE FUNCTION usage_add(t uuid, r jsonb) RETURNS void AS $$
DECLARE
  d jsonb;
  u jsonb;
  prompt bigint;
  completion bigint;
  priced boolean;
BEGIN
  d := CASE WHEN jsonb_typeof(r -> 'details') = 'object' THEN r -> 'details' ELSE '{}'::jsonb END;
  u := CASE WHEN jsonb_typeof(d -> 'usage') = 'object' THEN d -> 'usage' END;
  prompt := CASE WHEN jsonb_typeof(u -> 'prompt') = 'number' THEN (u ->> 'prompt')::numeric::bigint ELSE 0 END;
  completion := CASE WHEN jsonb_typeof(u -> 'completion') = 'number' THEN (u ->> 'completion')::numeric::bigint ELSE 0 END;
  -- The gateway writes cost_usd as a decimal string (src/llm/key-use.ts); anything else is no price.
  priced := coalesce(jsonb_typeof(u -> 'cost_usd') = 'string' AND u ->> 'cost_usd' ~ '^[0-9]{1,11}(\.[0-9]{1,9})?$', false);
  INSERT INTO usage_daily AS x (tenant_id, day, model, agent_id, user_id, api_key_id, requests, failed_requests,
                                prompt_tokens, completion_tokens, cost_usd, unpriced_requests)
  VALUES (t, ((r ->> 'created_at')::timestamptz AT TIME ZONE 'UTC')::date, coalesce(d ->> 'model', 'unknown'),
          d ->> 'agent_id', r ->> 'user_id', d ->> 'api_key_id', 1,
          CASE WHEN r ->> 'outcome' = 'success' THEN 0 ELSE 1 END, prompt, completion,
          CASE WHEN priced THEN (u ->> 'cost_usd')::numeric ELSE 0 END,
          CASE WHEN u IS NOT NULL AND NOT priced THEN 1 ELSE 0 END)
  ON CONFLICT ON CONSTRAINT usage_daily_group_uq DO UPDATE SET
    requests = x.requests + 1,
    failed_requests = x.failed_requests + EXCLUDED.failed_requests,
    prompt_tokens = x.prompt_tokens + EXCLUDED.prompt_tokens,
    completion_tokens = x.completion_tokens + EXCLUDED.completion_tokens,
    cost_usd = x.cost_usd + EXCLUDED.cost_usd,
    unpriced_requests = x.unpriced_requests + EXCLUDED.unpriced_requests;
EXCEPTION WHEN others THEN
  RAISE WARNING 'usage_add skipped audit row %: %', r ->> 'id', SQLERRM;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_append(records jsonb) RETURNS integer AS $$
DECLARE
  t uuid;
  head_seq bigint;
  head_hash text;
  new_hash text;
  canonical text;
  r jsonb;
  appended integer := 0;
BEGIN
  -- Tenants in a fixed order, so two batches never wait on each other's heads in a cycle.
  FOR t IN
    SELECT DISTINCT (x::jsonb ->> 'tenant_id')::uuid FROM jsonb_array_elements_text(records) AS x ORDER BY 1
  LOOP
    INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (t, 0, repeat('0', 64))
      ON CONFLICT (tenant_id) DO NOTHING;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.tenant_id = t FOR UPDATE;
    FOR canonical IN
      SELECT x FROM jsonb_array_elements_text(records) AS x
      WHERE (x::jsonb ->> 'tenant_id')::uuid = t
      ORDER BY x::jsonb ->> 'created_at', x::jsonb ->> 'id'
    LOOP
      r := canonical::jsonb;
      CONTINUE WHEN EXISTS (SELECT 1 FROM audit_logs a WHERE a.id = (r ->> 'id')::uuid);
      head_seq := head_seq + 1;
      new_hash := encode(sha256(convert_to(head_hash || E'\n' || head_seq::text || E'\n' || canonical, 'UTF8')), 'hex');
      INSERT INTO audit_logs (id, tenant_id, seq, user_id, action, resource_type, resource_id, outcome,
                              request_id, ip_address, user_agent, details, created_at, prev_hash, hash)
      VALUES ((r ->> 'id')::uuid, t, head_seq, r ->> 'user_id', r ->> 'action', r ->> 'resource_type',
              r ->> 'resource_id', r ->> 'outcome', r ->> 'request_id', r ->> 'ip_address', r ->> 'user_agent',
              r -> 'details', (r ->> 'created_at')::timestamptz, head_hash, new_hash);
      -- Usage is counted in the statement that stores its row, so exactly once (redeliveries are skipped above).
      IF r ->> 'action' = 'key.use' THEN
        PERFORM usage_add(t, r);
      END IF;
      head_hash := new_hash;
      appended := appended + 1;
    END LOOP;
    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash, updated_at = now() WHERE tenant_id = t;
  END LOOP;
  RETURN appended;
END;
$$ LANGUAGE plpgsql;

--> statement-breakpoint
-- The key.use rows stored before this migration (they carry tokens but no cost_usd: unpriced).
SELECT usage_add(a.tenant_id, jsonb_build_object('id', a.id, 'user_id', a.user_id, 'outcome', a.outcome,
                                                  'details', a.details, 'created_at', a.created_at))
FROM audit_logs a WHERE a.action = 'key.use' ORDER BY a.created_at;
--> statement-breakpoint
CREATE TRIGGER usage_budgets_set_updated_at BEFORE UPDATE ON usage_budgets
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
