import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import {
  AgentList,
  AgentParam,
  AgentSchema,
  CreateAgentBody,
  DeleteAgentResponse,
  ListAgentsQuery,
  UpdateAgentBody,
} from "./agents.schemas";

const body = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

export const createAgent = defineRoute({
  method: "post",
  path: "/agents",
  role: "admin",
  audit: { action: "agent.create", resourceType: "agent" },
  tags: ["Agents"],
  summary: "Create an agent",
  description: "agent_id is unique within the tenant (409 conflict otherwise).",
  request: { body: body(CreateAgentBody) },
  responses: { 201: jsonResponse(AgentSchema, "Created") },
  errors: [409, 503],
});

export const listAgents = defineRoute({
  method: "get",
  path: "/agents",
  role: "member",
  audit: { action: "agent.list", resourceType: "agent" },
  tags: ["Agents"],
  summary: "List the tenant's agents",
  request: { query: ListAgentsQuery },
  responses: { 200: jsonResponse(AgentList, "Agents, by agent_id") },
  errors: [503],
});

export const getAgent = defineRoute({
  method: "get",
  path: "/agents/{agent_id}",
  role: "member",
  audit: { action: "agent.read", resourceType: "agent", param: "agent_id" },
  tags: ["Agents"],
  summary: "Read an agent",
  request: { params: AgentParam },
  responses: { 200: jsonResponse(AgentSchema, "The agent") },
  errors: [404, 503],
});

export const updateAgent = defineRoute({
  method: "patch",
  path: "/agents/{agent_id}",
  role: "admin",
  audit: { action: "agent.update", resourceType: "agent", param: "agent_id" },
  tags: ["Agents"],
  summary: "Change an agent",
  description: "Fields not in the body keep their value; the result is validated as a whole.",
  request: { params: AgentParam, body: body(UpdateAgentBody) },
  responses: { 200: jsonResponse(AgentSchema, "Updated") },
  errors: [404, 503],
});

export const deleteAgent = defineRoute({
  method: "delete",
  path: "/agents/{agent_id}",
  role: "admin",
  audit: { action: "agent.delete", resourceType: "agent", param: "agent_id" },
  tags: ["Agents"],
  summary: "Delete an agent and its own knowledge documents",
  request: { params: AgentParam },
  responses: { 200: jsonResponse(DeleteAgentResponse, "Deleted") },
  errors: [404, 503],
});
