import { audited } from "../../audit/audited";
import { ApiError } from "../../errors/problem";
import { createRouter } from "../../lib/openapi";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from "./api-keys.routes";

const notFound = (id: string) => new ApiError("not_found", `No API key ${id} in this tenant.`);

export const apiKeysRouter = createRouter()
  .openapi(createApiKey, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      const { apiKeys, principal } = c.get("tenant");
      const { key, info } = await apiKeys.create(
        {
          name: body.name,
          expires_at: body.expires_at ? new Date(body.expires_at) : null,
          allowed_models: body.allowed_models ?? null,
          allowed_agents: body.allowed_agents ?? null,
          rate_limit_per_minute: body.rate_limit_per_minute ?? null,
        },
        principal.userId,
      );
      note.resourceId = info.id;
      // What was granted, never the key (its hint identifies it).
      Object.assign(note.details, {
        name: info.name,
        key_hint: info.key_hint,
        expires_at: info.expires_at,
        allowed_models: info.allowed_models,
        allowed_agents: info.allowed_agents,
        rate_limit_per_minute: info.rate_limit_per_minute,
      });
      c.header("cache-control", "no-store");
      return c.json({ ...info, key }, 201);
    });
  })
  .openapi(listApiKeys, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return await audited(c, async (note) => {
      const page = await c.get("tenant").apiKeys.list(limit, cursor);
      note.details.count = page.items.length;
      return c.json({ items: page.items, next_cursor: page.next }, 200);
    });
  })
  .openapi(getApiKey, async (c) => {
    const { id } = c.req.valid("param");
    return await audited(c, async () => {
      const info = await c.get("tenant").apiKeys.get(id);
      if (!info) throw notFound(id);
      return c.json(info, 200);
    });
  })
  .openapi(revokeApiKey, async (c) => {
    const { id } = c.req.valid("param");
    return await audited(c, async (note) => {
      const { apiKeys, principal } = c.get("tenant");
      const revoked = await apiKeys.revoke(id, principal.userId);
      if (!revoked) throw notFound(id);
      Object.assign(note.details, { key_hint: revoked.info.key_hint, already_revoked: !revoked.changed });
      return c.json(revoked.info, 200);
    });
  });
