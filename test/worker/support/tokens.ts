import { env } from "cloudflare:test";
import { SignJWT } from "jose";

export interface TokenOptions {
  tenant?: string;
  user?: string;
  roles?: string[];
  /** Override or drop claims (undefined drops). */
  claims?: Record<string, unknown>;
  expiresIn?: string | number;
  secret?: string;
  issuer?: string;
  audience?: string;
}

/** Mints an HS256 token the test stack accepts (or, with overrides, one it must reject). */
export async function mintToken(o: TokenOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    tenant_id: o.tenant ?? TENANT_A,
    roles: o.roles ?? ["admin"],
    ...o.claims,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(o.issuer ?? env.JWT_ISSUER!)
    .setAudience(o.audience ?? env.JWT_AUDIENCE!)
    .setSubject(o.user ?? USER_A)
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? "5m");
  return await jwt.sign(new TextEncoder().encode(o.secret ?? env.JWT_SECRET!));
}

export const TENANT_A = "11111111-1111-4111-8111-111111111111";
export const TENANT_B = "22222222-2222-4222-8222-222222222222";
export const USER_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
export const USER_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

/** A fresh tenant per test keeps tests independent on the shared stack. */
export const newTenant = () => crypto.randomUUID();
