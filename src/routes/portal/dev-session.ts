import { SignJWT } from "jose";
import type { Config } from "../../config";

/** The development tenant and admin that `POST /dev/session` signs in as. */
export const DEV_TENANT_ID = "dedede00-0000-4000-8000-000000000001";
export const DEV_USER_ID = "dev-admin";
/** Short-lived: a dev session is for clicking through the page, not for scripts. */
export const DEV_SESSION_SECONDS = 30 * 60;

/**
 * Mints an HS256 admin token for the dev tenant with the configured issuer,
 * audience and claim names, so it passes `authenticate` like a portal token.
 * Callers check `config.devLogin` first; this only needs the HS256 secret.
 */
export async function mintDevSession(jwt: Config["jwt"], now = Math.floor(Date.now() / 1000)) {
  if (!jwt.secret) throw new Error("dev sign-in needs JWT_SECRET");
  const token = await new SignJWT({ [jwt.tenantClaim]: DEV_TENANT_ID, [jwt.rolesClaim]: ["admin"] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setSubject(DEV_USER_ID)
    .setIssuedAt(now)
    .setExpirationTime(now + DEV_SESSION_SECONDS)
    .sign(new TextEncoder().encode(jwt.secret));
  return {
    token,
    token_type: "Bearer" as const,
    expires_in: DEV_SESSION_SECONDS,
    tenant_id: DEV_TENANT_ID,
    user_id: DEV_USER_ID,
    roles: ["admin"],
  };
}
