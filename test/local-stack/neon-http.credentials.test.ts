/**
 * With the endpoint's credentials configured, the stand-in refuses a wrong role, password or
 * database the way Neon does, so a misconfigured DATABASE_URL fails locally too.
 */
import { NeonDbError, neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server.js";

const credentials = { user: "gateway", password: "s3cret-pw", database: "brain" };
const url = (user: string, password: string, database: string) =>
  `postgresql://${user}:${password}@ep-local.localtest.me/${database}`;

let server: NeonHttpServer;
beforeAll(async () => {
  server = await startNeonHttp({ credentials });
  neonConfig.fetchEndpoint = server.url;
});
afterAll(async () => {
  await server?.close();
});

async function failure(connectionString: string): Promise<NeonDbError> {
  const err = await neon(connectionString)
    .query("SELECT 1")
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NeonDbError);
  return err as NeonDbError;
}

describe("Neon stand-in: the connection string's role, password and database", () => {
  it("accepts the endpoint's own", async () => {
    expect(await neon(url("gateway", "s3cret-pw", "brain")).query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("a wrong password: 400 password authentication failed, no SQLSTATE", async () => {
    const err = await failure(url("gateway", "wrong", "brain"));
    expect(err.message).toBe("password authentication failed for user 'gateway'");
    expect(err.code).toBe("");
  });

  it("an unknown role fails the same way (roles cannot be probed)", async () => {
    const err = await failure(url("intruder", "s3cret-pw", "brain"));
    expect(err.message).toBe("password authentication failed for user 'intruder'");
  });

  it("a database that does not exist: the compute's FATAL 3D000", async () => {
    const err = await failure(url("gateway", "s3cret-pw", "nope"));
    expect(err.message).toBe('database "nope" does not exist');
    expect(err.code).toBe("3D000");
    expect(err.severity).toBe("FATAL");
  });

  it("the raw answer has the proxy's 17 keys", async () => {
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "Neon-Connection-String": url("gateway", "wrong", "brain") },
      body: JSON.stringify({ query: "SELECT 1", params: [] }),
    });
    expect(res.status).toBe(400);
    expect(Object.keys(await res.json())).toHaveLength(17);
  });
});
