import { audited } from "../../audit/audited";
import { ApiError } from "../../errors/problem";
import { checkKeyShape } from "../../keys/key-shapes";
import { createRouter } from "../../lib/openapi";
import { deleteKey, getKey, listKeys, storeKey } from "./keys.routes";

export const keysRouter = createRouter()
  .openapi(storeKey, async (c) => {
    const { service } = c.req.valid("param");
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      if (body.service !== service) throw new ApiError("validation_failed", "body service must match the path");
      const { refusal, warning } = checkKeyShape(service, body.api_key);
      if (refusal)
        throw new ApiError("validation_failed", refusal, { errors: [{ path: "api_key", message: refusal }] });
      const { keys, principal } = c.get("tenant");
      const result = await keys.store({
        service,
        apiKey: body.api_key,
        metadata: body.metadata ?? {},
        userId: principal.userId,
        expectedVersion: body.expected_version,
      });
      note.action = result.created ? "key.create" : "key.rotate";
      Object.assign(note.details, { vault_version: result.version, key_hint: result.keyHint });
      if (warning) note.details.warnings = [warning];
      const payload = {
        status: "success" as const,
        action: result.created ? ("created" as const) : ("rotated" as const),
        service,
        vault_path: keys.pathOf(service),
        version: result.version,
        key_hint: result.keyHint,
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
      return c.json(info, 200);
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
      return c.json({ keys: items.map((i) => i.service), items }, 200);
    });
  });
