import type { z } from "@hono/zod-openapi";

/**
 * Text Postgres can store. `text` and `jsonb` refuse U+0000, and a UTF-16
 * surrogate without its pair has no UTF-8 form: either one turns an insert into
 * an error. Checked in validation, so such input is a 400 before any side effect
 * (a Vault write, a paid embedding call).
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const NOT_STORABLE = "must not contain U+0000 or an unpaired surrogate";

/** True when Postgres can store `s` in a text or jsonb column. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** A string schema that also refuses text Postgres cannot store. */
export function storableText<T extends z.ZodString>(schema: T): T {
  return schema.refine(isStorableText, NOT_STORABLE) as T;
}

/** Every string in a JSON value, keys included, with its path. */
function* strings(value: unknown, path: PropertyKey[] = []): Generator<{ text: string; path: PropertyKey[] }> {
  if (typeof value === "string") {
    yield { text: value, path };
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* strings(v, [...path, i]);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      yield { text: k, path: [...path, k] };
      yield* strings(v, [...path, k]);
    }
  }
}

/** True when every string in `value` (keys included, at any depth) is storable. */
export function isStorableJson(value: unknown): boolean {
  for (const s of strings(value)) if (!isStorableText(s.text)) return false;
  return true;
}

/** A JSON schema (e.g. metadata for a jsonb column) that refuses unstorable strings, keys included, at any depth. */
export function storableJson<T extends z.ZodType>(schema: T): T {
  return schema.superRefine((value, ctx) => {
    for (const s of strings(value)) {
      if (!isStorableText(s.text)) ctx.addIssue({ code: "custom", path: s.path, message: NOT_STORABLE });
    }
  }) as unknown as T;
}

/** The entries of a stored JSON object Postgres can hold (for records copied from elsewhere, e.g. Vault). */
export function storableEntries(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => isStorableText(k) && isStorableJson(v)));
}
