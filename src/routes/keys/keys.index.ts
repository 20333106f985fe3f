import { audited } from "../../audit/audited";
import type { Config } from "../../config";
import { ApiError } from "../../errors/problem";
import type { KeyInfo } from "../../keys/key-store";
import { checkKeyShape } from "../../keys/key-shapes";
import { createRouter } from "../../lib/openapi";
import { PROVIDER_CATALOG, PROVIDER_IDS, type ProviderId } from "../../llm/catalog";
import { PROVIDERS } from "../../llm/providers";
import { deleteKey, getKey, listKeys, storeKey } from "./keys.routes";

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
      const result = await keys.store({
        service,
        apiKey: body.api_key,
        settings,
        metadata: body.metadata ?? {},
        userId: principal.userId,
        expectedVersion: body.expected_version,
      });
      note.action = result.created ? "key.create" : "key.rotate";
      Object.assign(note.details, { vault_version: result.version, key_hint: result.keyHint, ...settings });
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
      };
      return result.created ? c.json(payload, 201) : c.json(payload, 200);
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
