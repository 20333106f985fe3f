-- A key's use is not a change of its record: an update of connector_configs that changes nothing
-- but last_used_at (written after calls, at most once a minute) keeps updated_at; any other change
-- moves it, as set_updated_at (0002) does.
CREATE OR REPLACE FUNCTION set_updated_at_unless_only_used() RETURNS trigger AS $$
BEGIN
  IF (to_jsonb(NEW) - 'last_used_at' - 'updated_at') = (to_jsonb(OLD) - 'last_used_at' - 'updated_at')
     AND NEW.last_used_at IS DISTINCT FROM OLD.last_used_at THEN
    NEW.updated_at = OLD.updated_at;
  ELSE
    NEW.updated_at = now();
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER connector_configs_set_updated_at ON connector_configs;
--> statement-breakpoint
CREATE TRIGGER connector_configs_set_updated_at BEFORE UPDATE ON connector_configs
  FOR EACH ROW EXECUTE FUNCTION set_updated_at_unless_only_used();
