-- Appends audit records to their tenants' hash chains (see src/audit/chain.ts and the
-- README "Audit trail"). One call is one statement, so each tenant's chain head row
-- stays locked (FOR UPDATE) from reading the last hash to storing the new one:
-- concurrent consumers queue on it and a chain can never fork or skip a number.
-- Idempotent: a record whose id is already stored is skipped (queue redelivery).
-- `records` is a JSON array of canonical texts (strings); the row is parsed from
-- exactly the text that is hashed.
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
      head_hash := new_hash;
      appended := appended + 1;
    END LOOP;
    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash, updated_at = now() WHERE tenant_id = t;
  END LOOP;
  RETURN appended;
END;
$$ LANGUAGE plpgsql;
