import { allowsModel, requireModelAllowed } from "../../api-keys/grant";
import { audited } from "../../audit/audited";
import { embedDepsOf } from "../../knowledge/embedding";
import { eventStream } from "../../lib/event-stream";
import { createRouter } from "../../lib/openapi";
import {
  chatCompletion,
  embeddings as embed,
  openChatCompletionStream,
  pumpChatCompletion,
} from "../../v1/completions";
import { listModels } from "../../v1/models";
import { chatCompletions, embeddings, models } from "./v1.routes";

export const v1Router = createRouter()
  .openapi(chatCompletions, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      // An API key's allowances first: nothing is read or sent for a model it may not use.
      requireModelAllowed(c.get("tenant").principal, body.model);
      const deps = embedDepsOf(c);
      note.details.stream = body.stream === true;
      if (body.stream !== true) return c.json(await chatCompletion(deps, body, note), 200);
      const source = await openChatCompletionStream(deps, body, note);
      return eventStream(c, (writable) => pumpChatCompletion(deps, source, writable));
    });
  })
  .openapi(embeddings, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      requireModelAllowed(c.get("tenant").principal, body.model);
      return c.json(await embed(embedDepsOf(c), body, note), 200);
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
