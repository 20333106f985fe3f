import { ApiError } from "../errors/problem";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A provider/service name: lowercase letters, digits, `-`, `_`; at most 64; starts with a letter or digit. */
export const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** The Vault path (inside the KV mount) of a tenant's key for a service. */
export function keyPath(tenantId: string, service: string): string {
  if (!UUID.test(tenantId))
    throw new ApiError("internal_error", undefined, { cause: new Error("tenant id is not a uuid") });
  if (!SERVICE_NAME.test(service))
    throw new ApiError("validation_failed", "service must be lowercase letters, digits, - or _ (at most 64)");
  return assertSafePath(`tenants/${tenantId}/api_keys/${service}`);
}

/** The Vault path of a content connector's credentials (WordPress, Shopify…), next to the tenant's keys. */
export function connectorPath(tenantId: string, connectorId: string): string {
  if (!UUID.test(tenantId) || !UUID.test(connectorId))
    throw new ApiError("internal_error", undefined, { cause: new Error("tenant or connector id is not a uuid") });
  return assertSafePath(`tenants/${tenantId}/connectors/${connectorId}`);
}

/** The folder listing a tenant's keys. */
export function keysFolder(tenantId: string): string {
  if (!UUID.test(tenantId))
    throw new ApiError("internal_error", undefined, { cause: new Error("tenant id is not a uuid") });
  return assertSafePath(`tenants/${tenantId}/api_keys`);
}

/**
 * Last check before a path goes to Vault: only plain segments, so `.`/`..`, empty
 * segments and encoded characters can never make Vault resolve another tenant's path.
 */
export function assertSafePath(path: string): string {
  const segments = path.split("/");
  if (segments.length === 0 || !segments.every((s) => SEGMENT.test(s))) {
    throw new ApiError("internal_error", undefined, { cause: new Error("unsafe vault path rejected") });
  }
  return path;
}

/**
 * A Vault path with the tenant and service replaced by placeholders, for log lines about a path
 * (a policy denial names what was refused, never whose key it was).
 */
export function pathShape(path: string): string {
  return path.replace(/\/tenants\/[^/]+/, "/tenants/:tenant").replace(/\/api_keys\/[^/]+/, "/api_keys/:service");
}
