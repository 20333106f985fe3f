import { createRoute } from "@hono/zod-openapi";
import { bearerSecurity, jsonResponse, problemResponses } from "../../lib/openapi";
import {
  AgentList,
  AgentParam,
  AgentSchema,
  CreateAgentBody,
  DeleteAgentResponse,
  ListAgentsQuery,
  UpdateAgentBody,
} from "./agents.schemas";
import { auditTarget } from "../../audit/audited";

const body = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

export const createAgent = createRoute({
  method: "post",
  path: "/agents",
  middleware: [auditTarget("agent.create", "agent")] as const,
  tags: ["Agents"],
  summary: "Create an agent",
  description: "Admins only. agent_id is unique within the tenant (409 conflict otherwise).",
  security: bearerSecurity,
  request: { body: body(CreateAgentBody) },
  responses: { 201: jsonResponse(AgentSchema, "Created"), ...problemResponses(400, 401, 403, 409, 413, 429, 503) },
});

export const listAgents = createRoute({
  method: "get",
  path: "/agents",
  middleware: [auditTarget("agent.list", "agent")] as const,
  tags: ["Agents"],
  summary: "List the tenant's agents",
  security: bearerSecurity,
  request: { query: ListAgentsQuery },
  responses: { 200: jsonResponse(AgentList, "Agents, by agent_id"), ...problemResponses(400, 401, 429, 503) },
});

export const getAgent = createRoute({
  method: "get",
  path: "/agents/{agent_id}",
  middleware: [auditTarget("agent.read", "agent", "agent_id")] as const,
  tags: ["Agents"],
  summary: "Read an agent",
  security: bearerSecurity,
  request: { params: AgentParam },
  responses: { 200: jsonResponse(AgentSchema, "The agent"), ...problemResponses(400, 401, 404, 429, 503) },
});

export const updateAgent = createRoute({
  method: "patch",
  path: "/agents/{agent_id}",
  middleware: [auditTarget("agent.update", "agent", "agent_id")] as const,
  tags: ["Agents"],
  summary: "Change an agent",
  description: "Admins only. Fields not in the body keep their value; the result is validated as a whole.",
  security: bearerSecurity,
  request: { params: AgentParam, body: body(UpdateAgentBody) },
  responses: { 200: jsonResponse(AgentSchema, "Updated"), ...problemResponses(400, 401, 403, 404, 413, 429, 503) },
});

export const deleteAgent = createRoute({
  method: "delete",
  path: "/agents/{agent_id}",
  middleware: [auditTarget("agent.delete", "agent", "agent_id")] as const,
  tags: ["Agents"],
  summary: "Delete an agent and its own knowledge documents",
  security: bearerSecurity,
  request: { params: AgentParam },
  responses: { 200: jsonResponse(DeleteAgentResponse, "Deleted"), ...problemResponses(400, 401, 403, 404, 429, 503) },
});
