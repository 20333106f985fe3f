-- The connector tables keep updated_at current the same way as the others (0002).
CREATE TRIGGER connector_runs_set_updated_at BEFORE UPDATE ON connector_runs
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint
CREATE TRIGGER connector_items_set_updated_at BEFORE UPDATE ON connector_items
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
