import { audited } from "../../audit/audited";
import { embedDepsOf } from "../../knowledge/embedding";
import { PROVIDER_IDS, type ProviderId } from "../../llm/catalog";
import { LISTED_MODELS } from "../../llm/models";
import { createRouter } from "../../lib/openapi";
import {
  chatCompletion,
  embeddings as embed,
  openChatCompletionStream,
  pumpChatCompletion,
} from "../../v1/completions";
import { chatCompletions, embeddings, models } from "./v1.routes";

const isProvider = (service: string): service is ProviderId => (PROVIDER_IDS as string[]).includes(service);

export const v1Router = createRouter()
  .openapi(chatCompletions, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      const deps = embedDepsOf(c);
      note.details.stream = body.stream === true;
      if (body.stream !== true) return c.json(await chatCompletion(deps, body, note), 200);
      const { source, key } = await openChatCompletionStream(deps, body, note);
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      c.executionCtx.waitUntil(pumpChatCompletion(deps, body.model, key, source, writable));
      return c.body(readable, 200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      });
    });
  })
  .openapi(embeddings, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => c.json(await embed(embedDepsOf(c), body, note), 200));
  })
  .openapi(models, async (c) => {
    return await audited(c, async (note) => {
      const stored = (await c.get("tenant").keys.list()).map((k) => k.service).filter(isProvider);
      note.details.providers = stored;
      const data = stored.flatMap((provider) =>
        LISTED_MODELS[provider].map((m) => ({
          id: m.id,
          object: "model",
          created: Math.floor(Date.parse(`${m.released}T00:00:00Z`) / 1000),
          owned_by: provider,
        })),
      );
      return c.json({ object: "list", data }, 200);
    });
  });
