-- knowledge_jobs.updated_at kept current like every other table's (0002, 0009).
CREATE TRIGGER knowledge_jobs_set_updated_at BEFORE UPDATE ON knowledge_jobs
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
