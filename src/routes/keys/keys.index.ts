import { audited } from "../../audit/audited";
import type { Config } from "../../config";
import { ApiError } from "../../errors/problem";
import type { KeyInfo } from "../../keys/key-store";
import { checkKeyShape } from "../../keys/key-shapes";
import { keyHint as keyHintOf } from "../../keys/key-store";
import { verifyCredential, type VerifyResult } from "../../keys/verify";
import { createRouter } from "../../lib/openapi";
import { PROVIDER_CATALOG, PROVIDER_IDS, type ProviderId } from "../../llm/catalog";
import { PROVIDERS } from "../../llm/providers";
import { deleteKey, getKey, listKeys, storeKey, verifyKey } from "./keys.routes";

/** A check's outcome in the API's shape. */
const checkBody = (check: VerifyResult) => ({
  verification: check.verification,
  last_verified_at: check.checkedAt.toISOString(),
  verification_reason: check.reason,
});

/** A check's non-secret facts for the audit row (field names avoid "key": the writer redacts those). */
const checkDetails = (check: VerifyResult) => ({ verification: check.verification, provider_status: check.status });

/** Every credential field besides `api_key` any provider has, and the providers that take each. */
const FIELD_OWNERS = new Map<string, ProviderId[]>();
for (const id of PROVIDER_IDS)
  for (const f of (PROVIDER_CATALOG[id] as { fields?: readonly { name: string }[] }).fields ?? [])
    FIELD_OWNERS.set(f.name, [...(FIELD_OWNERS.get(f.name) ?? []), id]);

const isProvider = (service: string): service is ProviderId => (PROVIDER_IDS as string[]).includes(service);

/**
 * The credential fields given beside `api_key`, checked by the service's provider (required, of the
 * right form, the endpoint within the SSRF rules); refused for a service that takes none.
 */
function credentialSettings(service: string, body: Record<string, unknown>, config: Config): Record<string, string> {
  const given = Object.fromEntries(
    [...FIELD_OWNERS.keys()].filter((f) => body[f] !== undefined).map((f) => [f, body[f]]),
  );
  const provider = isProvider(service) ? PROVIDERS[service] : undefined;
  if (provider && "settings" in provider) return provider.settings(given, config);
  const errors = Object.keys(given).map((f) => ({
    path: f,
    message: `${f} is only accepted for ${FIELD_OWNERS.get(f)!.join(", ")}`,
  }));
  if (errors.length > 0) throw new ApiError("validation_failed", errors.map((e) => e.message).join("; "), { errors });
  return {};
}

/** A key record as the API shows it: the credential's readable fields beside the hint, never the key. */
function keyView({ settings, ...info }: KeyInfo) {
  const fields = Object.fromEntries(Object.entries(settings ?? {}).filter(([f]) => FIELD_OWNERS.has(f)));
  return { ...info, ...fields };
}

export const keysRouter = createRouter()
  .openapi(storeKey, async (c) => {
    const { service } = c.req.valid("param");
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      if (body.service !== service) throw new ApiError("validation_failed", "body service must match the path");
      const { refusal, warning } = checkKeyShape(service, body.api_key);
      if (refusal)
        throw new ApiError("validation_failed", refusal, { errors: [{ path: "api_key", message: refusal }] });
      const settings = credentialSettings(service, body, c.get("config"));
      const { keys, principal } = c.get("tenant");
      // Asked before Vault is written: a key the provider rejects never becomes a version.
      const check = body.verify
        ? await verifyCredential(c.get("config"), service, { apiKey: body.api_key, settings })
        : undefined;
      if (check) Object.assign(note.details, checkDetails(check));
      if (check?.verification === "rejected")
        throw new ApiError(
          "provider_key_rejected",
          `${check.reason} It was not stored; the ${service} key stored before, if any, is unchanged.`,
        );
      const expiresAt = body.expires_at ? new Date(body.expires_at) : undefined;
      const result = await keys.store({
        service,
        apiKey: body.api_key,
        settings,
        metadata: body.metadata ?? {},
        userId: principal.userId,
        expectedVersion: body.expected_version,
        expiresAt,
        check,
      });
      note.action = result.created ? "key.create" : "key.rotate";
      Object.assign(note.details, { vault_version: result.version, key_hint: result.keyHint, ...settings });
      if (expiresAt) note.details.expires_at = expiresAt.toISOString();
      if (warning) note.details.warnings = [warning];
      const payload = {
        status: "success" as const,
        action: result.created ? ("created" as const) : ("rotated" as const),
        service,
        vault_path: keys.pathOf(service),
        version: result.version,
        key_hint: result.keyHint,
        ...settings,
        ...(warning ? { warnings: [warning] } : {}),
        ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
        ...(check ? checkBody(check) : {}),
      };
      return result.created ? c.json(payload, 201) : c.json(payload, 200);
    });
  })
  .openapi(verifyKey, async (c) => {
    const { service } = c.req.valid("param");
    return await audited(c, async (note) => {
      const { keys } = c.get("tenant");
      const key = await keys.currentKey(service);
      if (!key) throw new ApiError("not_found", `No key is stored for ${service}.`);
      const check = await verifyCredential(c.get("config"), service, key);
      await keys.recordCheck(service, key.version, check);
      Object.assign(note.details, { vault_version: key.version, ...checkDetails(check) });
      return c.json({ service, version: key.version, key_hint: keyHintOf(key.apiKey), ...checkBody(check) }, 200);
    });
  })
  .openapi(getKey, async (c) => {
    const { service } = c.req.valid("param");
    return await audited(c, async (note) => {
      const info = await c.get("tenant").keys.info(service);
      if (!info) throw new ApiError("not_found", `No key is stored for ${service}.`);
      Object.assign(note.details, { vault_version: info.version, key_hint: info.key_hint });
      return c.json(keyView(info), 200);
    });
  })
  .openapi(deleteKey, async (c) => {
    const { service } = c.req.valid("param");
    return await audited(c, async () => {
      if (!(await c.get("tenant").keys.remove(service)))
        throw new ApiError("not_found", `No key is stored for ${service}.`);
      return c.json({ status: "success" as const, service, deleted: true as const }, 200);
    });
  })
  .openapi(listKeys, async (c) => {
    return await audited(c, async (note) => {
      const items = await c.get("tenant").keys.list();
      note.details.count = items.length;
      return c.json({ keys: items.map((i) => i.service), items: items.map(keyView) }, 200);
    });
  });
