/**
 * Applies the drizzle-kit migrations in ./migrations to a Postgres reached over
 * Neon's SQL-over-HTTP API: real Neon (DATABASE_URL alone) or the local
 * stand-in (NEON_FETCH_ENDPOINT set). Each migration and its bookkeeping row
 * commit in one transaction, so a failed migration leaves nothing half-applied
 * (drizzle's own neon-http migrator runs statements one by one).
 *
 *   DATABASE_URL=postgres://… npm run db:migrate
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { fileURLToPath } from "node:url";

const MIGRATIONS_FOLDER = fileURLToPath(new URL("../migrations", import.meta.url));

export interface MigrateOptions {
  databaseUrl: string;
  fetchEndpoint?: string | undefined;
  log?: (line: string) => void;
}

/** Applies pending migrations; returns how many were applied. Compatible with drizzle's `drizzle.__drizzle_migrations` table. */
export async function migrateDatabase({ databaseUrl, fetchEndpoint, log = () => {} }: MigrateOptions): Promise<number> {
  if (fetchEndpoint) neonConfig.fetchEndpoint = fetchEndpoint;
  const sql = neon(databaseUrl);
  await sql.query(`CREATE SCHEMA IF NOT EXISTS drizzle`);
  await sql.query(
    `CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
  );
  const applied = (await sql.query(`SELECT hash FROM drizzle.__drizzle_migrations`)) as Array<{ hash: string }>;
  const done = new Set(applied.map((r) => r.hash));
  let count = 0;
  for (const m of readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })) {
    if (done.has(m.hash)) continue;
    const statements = m.sql.map((s) => s.trim()).filter(Boolean);
    await sql.transaction([
      ...statements.map((s) => sql.query(s)),
      sql.query(`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)`, [
        m.hash,
        m.folderMillis,
      ]),
    ]);
    count++;
    log(`applied migration ${m.folderMillis}`);
  }
  return count;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error("DATABASE_URL is not set (a Neon postgres:// URL, or the local stack's; see README).");
    process.exit(2);
  }
  migrateDatabase({ databaseUrl, fetchEndpoint: process.env.NEON_FETCH_ENDPOINT, log: console.log })
    .then((n) => console.log(n ? `${n} migration(s) applied` : "database is up to date"))
    .catch((err: Error) => {
      // The message can carry SQL but not credentials: the URL is never part of it.
      console.error(`migration failed: ${err.message}`);
      process.exit(1);
    });
}
