import type { AgentFields } from "../../agents/agent-store";
import { AGENT_DEFAULTS, agentProblems, type FieldProblem } from "../../agents/validation";
import { audited } from "../../audit/audited";
import { ApiError } from "../../errors/problem";
import { createRouter } from "../../lib/openapi";
import { createAgent, deleteAgent, getAgent, listAgents, updateAgent } from "./agents.routes";

const notFound = (agentId: string) => new ApiError("not_found", `No agent ${agentId} in this tenant.`);

/** Throws the same 400 shape as schema validation for cross-field problems. */
function rejectProblems(problems: FieldProblem[]): void {
  if (problems.length === 0) return;
  throw new ApiError("validation_failed", problems.map((p) => `${p.path}: ${p.message}`).join("; "), {
    errors: problems,
  });
}

export const agentsRouter = createRouter()
  .openapi(createAgent, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      const { agent_id, ...given } = body;
      note.resourceId = agent_id;
      const fields: AgentFields = {
        ...AGENT_DEFAULTS,
        description: null,
        ...given,
        name: given.name ?? agent_id,
        enabled_tools: given.enabled_tools ?? [],
      };
      rejectProblems(agentProblems(fields));
      const { agents, principal } = c.get("tenant");
      const agent = await agents.create(agent_id, fields, principal.userId);
      Object.assign(note.details, { llm_provider: agent.llm_provider, llm_model: agent.llm_model });
      return c.json(agent, 201);
    });
  })
  .openapi(listAgents, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return await audited(c, async (note) => {
      const page = await c.get("tenant").agents.list(limit, cursor);
      note.details.count = page.items.length;
      return c.json({ items: page.items, next_cursor: page.next }, 200);
    });
  })
  .openapi(getAgent, async (c) => {
    const { agent_id } = c.req.valid("param");
    return await audited(c, async () => {
      const agent = await c.get("tenant").agents.get(agent_id);
      if (!agent) throw notFound(agent_id);
      return c.json(agent, 200);
    });
  })
  .openapi(updateAgent, async (c) => {
    const { agent_id } = c.req.valid("param");
    const changes = c.req.valid("json");
    return await audited(c, async (note) => {
      const { agents } = c.get("tenant");
      const current = await agents.get(agent_id);
      if (!current) throw notFound(agent_id);
      rejectProblems(agentProblems({ ...current, ...changes }));
      // Which fields changed, not their values: prompts can be long and are not audit material.
      note.details.fields = Object.keys(changes).sort();
      const updated = await agents.update(agent_id, changes);
      if (!updated) throw notFound(agent_id);
      return c.json(updated, 200);
    });
  })
  .openapi(deleteAgent, async (c) => {
    const { agent_id } = c.req.valid("param");
    return await audited(c, async (note) => {
      const removed = await c.get("tenant").agents.remove(agent_id);
      if (!removed) throw notFound(agent_id);
      note.details.knowledge_chunks_deleted = removed.chunks;
      return c.json(
        { status: "success" as const, agent_id, deleted: true as const, knowledge_chunks_deleted: removed.chunks },
        200,
      );
    });
  });
