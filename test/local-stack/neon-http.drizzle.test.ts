/**
 * The stand-in driven by drizzle-orm's `neon-http` driver, the way the Worker
 * uses it: query builders in array mode, `db.batch` as one atomic POST,
 * `db.execute` in object mode, pgvector through drizzle's column type.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { asc, cosineDistance, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { integer, numeric, pgTable, serial, text, timestamp, vector } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server.js";

const users = pgTable("users", {
  id: serial("id").primaryKey(),
  email: text("email").notNull().unique(),
  credits: numeric("credits").notNull().default("0"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

const chunks = pgTable("chunks", {
  id: integer("id").primaryKey(),
  embedding: vector("embedding", { dimensions: 3 }).notNull(),
});

let server: NeonHttpServer;
const db = drizzle({ client: neon("postgresql://user:pass@ep-local.localtest.me/neondb") });

beforeAll(async () => {
  server = await startNeonHttp();
  neonConfig.fetchEndpoint = server.url;
  await db.execute(sql`CREATE EXTENSION IF NOT EXISTS vector`);
  await db.execute(sql`
    CREATE TABLE users (
      id serial PRIMARY KEY,
      email text NOT NULL UNIQUE,
      credits numeric NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await db.execute(sql`CREATE TABLE chunks (id int PRIMARY KEY, embedding vector(3) NOT NULL)`);
});

afterAll(async () => {
  await server?.close();
});

/** drizzle wraps driver errors; the NeonDbError with the SQLSTATE is the cause. */
async function sqlState(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as { code?: string }).code;
}

describe("drizzle-orm/neon-http against the stand-in", () => {
  it("inserts with returning and selects back typed columns", async () => {
    const [created] = await db.insert(users).values({ email: "ada@example.com", credits: "12.5" }).returning();
    expect(created?.id).toBe(1);
    expect(created?.email).toBe("ada@example.com");
    expect(created?.credits).toBe("12.5");
    expect(created?.createdAt).toBeInstanceOf(Date);

    const found = await db
      .select({ id: users.id, credits: users.credits })
      .from(users)
      .where(eq(users.email, "ada@example.com"));
    expect(found).toEqual([{ id: 1, credits: "12.5" }]);
  });

  it("db.execute returns object rows with the command tag", async () => {
    const result = await db.execute(sql`UPDATE users SET credits = credits + ${1} WHERE email = ${"ada@example.com"}`);
    expect(result.command).toBe("UPDATE");
    expect(result.rowCount).toBe(1);
    const rows = await db.execute<{ credits: string }>(sql`SELECT credits FROM users WHERE id = ${1}`);
    expect(rows.rows).toEqual([{ credits: "13.5" }]);
  });

  it("db.batch commits all statements and returns each result", async () => {
    const [inserted, count] = await db.batch([
      db.insert(users).values({ email: "bob@example.com" }).returning({ email: users.email }),
      db.select({ n: sql<number>`count(*)::int` }).from(users),
    ]);
    expect(inserted).toEqual([{ email: "bob@example.com" }]);
    expect(count).toEqual([{ n: 2 }]);
  });

  it("db.batch is atomic: a failing statement rolls back the earlier insert", async () => {
    const code = await sqlState(
      db.batch([
        db.insert(users).values({ email: "carol@example.com" }),
        db.insert(users).values({ email: "ada@example.com" }),
      ]),
    );
    expect(code).toBe("23505");
    expect(await db.select().from(users).where(eq(users.email, "carol@example.com"))).toEqual([]);
  });

  it("surfaces a missing table as 42P01", async () => {
    expect(await sqlState(db.execute(sql`SELECT * FROM missing_table`))).toBe("42P01");
  });

  it("stores vectors and orders by cosine distance", async () => {
    await db.insert(chunks).values([
      { id: 1, embedding: [1, 0, 0] },
      { id: 2, embedding: [0, 0, 1] },
      { id: 3, embedding: [0.6, 0.8, 0] },
    ]);
    const [one] = await db.select().from(chunks).where(eq(chunks.id, 3));
    expect(one).toEqual({ id: 3, embedding: [0.6, 0.8, 0] });

    const distance = cosineDistance(chunks.embedding, [0, 1, 0]);
    const ranked = await db.select({ id: chunks.id }).from(chunks).orderBy(asc(distance));
    expect(ranked.map((r) => r.id)).toEqual([3, 1, 2]);
  });
});
