import type { Context } from "hono";
import { allowsModel, requireModelAllowed } from "../../api-keys/grant";
import { audited } from "../../audit/audited";
import { embedDepsOf } from "../../knowledge/embedding";
import { eventStream } from "../../lib/event-stream";
import { createRouter } from "../../lib/openapi";
import type { AppEnv } from "../../env";
import {
  chatCompletion,
  embeddings as embed,
  openChatCompletionStream,
  pumpChatCompletion,
  type V1Answer,
} from "../../v1/completions";
import { listModels } from "../../v1/models";
import { chatCompletions, embeddings, models } from "./v1.routes";

/**
 * Sends a /v1 answer: a provider's answer relayed byte for byte as it wrote it, otherwise the JSON.
 * (The request's own text, `c.req.text()`, is the body the validator parsed: relayed as sent.)
 */
function answer(c: Context<AppEnv>, a: V1Answer) {
  if (a.text === undefined) return c.json(a.json, 200);
  // The same JSON as the provider's bytes: typed as the JSON answer it is (the typed client reads it so).
  return c.body(a.text, 200, { "content-type": "application/json" }) as unknown as ReturnType<
    typeof c.json<V1Answer["json"], 200>
  >;
}

export const v1Router = createRouter()
  .openapi(chatCompletions, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      // An API key's allowances first: nothing is read or sent for a model it may not use.
      requireModelAllowed(c.get("tenant").principal, body.model);
      const deps = embedDepsOf(c);
      note.details.stream = body.stream === true;
      if (body.stream !== true) return answer(c, await chatCompletion(deps, body, note, await c.req.text()));
      const source = await openChatCompletionStream(deps, body, note);
      return eventStream(c, (writable) => pumpChatCompletion(deps, source, writable));
    });
  })
  .openapi(embeddings, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      requireModelAllowed(c.get("tenant").principal, body.model);
      return answer(c, await embed(embedDepsOf(c), body, note, await c.req.text()));
    });
  })
  .openapi(models, async (c) => {
    return await audited(c, async (note) => {
      const { providers, data } = await listModels(c.get("tenant"));
      note.details.providers = providers;
      // An API key sees only the models and agents it may call.
      const grant = c.get("tenant").principal.apiKey;
      return c.json({ object: "list", data: grant ? data.filter((m) => allowsModel(grant, m.id)) : data }, 200);
    });
  });
