/**
 * Prints a bearer token the local stack accepts (HS256 with the dev secret,
 * or JWT_SECRET / JWT_ISSUER / JWT_AUDIENCE from the environment).
 *
 *   npm run token -- --tenant <uuid> --user <uuid> --roles admin
 */
import { SignJWT } from "jose";
import { parseArgs } from "node:util";
import { DEV } from "../local-stack/settings";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function devToken(o: {
  tenant: string;
  user: string;
  roles: string[];
  ttlSeconds?: number;
}): Promise<string> {
  const secret = process.env.JWT_SECRET ?? DEV.jwt.secret;
  return await new SignJWT({ tenant_id: o.tenant, roles: o.roles })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(process.env.JWT_ISSUER ?? DEV.jwt.issuer)
    .setAudience(process.env.JWT_AUDIENCE ?? DEV.jwt.audience)
    .setSubject(o.user)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (o.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(secret));
}

async function main() {
  const { values } = parseArgs({
    options: {
      tenant: { type: "string" },
      user: { type: "string", default: "00000000-0000-4000-8000-000000000001" },
      roles: { type: "string", default: "admin" },
      ttl: { type: "string", default: "3600" },
    },
  });
  if (!values.tenant || !UUID.test(values.tenant)) {
    console.error("usage: npm run token -- --tenant <uuid> [--user <id>] [--roles admin,member] [--ttl seconds]");
    process.exit(2);
  }
  const roles = values
    .roles!.split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  console.log(await devToken({ tenant: values.tenant, user: values.user!, roles, ttlSeconds: Number(values.ttl) }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
