import { ApiError } from "../errors/problem";

/** A row id as we issue them (UUID v1–v8, RFC 9562 variant); anything else is no position. */
export const isRowId = (s: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(s);

/**
 * An opaque page cursor: the last row's position (e.g. its created_at and id) as base64url JSON.
 * Clients pass `next_cursor` back as `cursor` and never look inside.
 */
export function encodeCursor(position: readonly string[]): string {
  return btoa(JSON.stringify(position)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The position inside a cursor: exactly one string per check, each passing it. Anything else
 * (not base64url, not JSON, a part too many, a value the database would refuse) is the same 400
 * on `cursor`, never a query that fails.
 */
export function decodeCursor<const C extends readonly ((part: string) => boolean)[]>(
  cursor: string,
  checks: C,
): { [K in keyof C]: string } {
  let parts: unknown;
  try {
    parts = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    // not base64url JSON: refused below
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== checks.length ||
    !parts.every((p, i) => typeof p === "string" && checks[i]!(p))
  ) {
    const message = "cursor is not the next_cursor of a previous page";
    throw new ApiError("validation_failed", `cursor: ${message}`, { errors: [{ path: "cursor", message }] });
  }
  return parts as { [K in keyof C]: string };
}
