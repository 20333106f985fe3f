import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import {
  Connector,
  ConnectorIdParam,
  ConnectorList,
  CreateConnectorBody,
  DeleteConnectorQuery,
  DeleteConnectorResponse,
  Run,
  RunList,
  RunParam,
  RunsQuery,
  SyncStarted,
  UpdateConnectorBody,
} from "./connectors.schemas";

const tags = ["Connectors"];
const body = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
const checks =
  "The site URL must be https on a public host. The credentials are checked with one cheap call to the service; " +
  "a refusal is 422 connector_check_failed saying what failed. Credentials are stored in Vault and never returned (hints only).";

export const createConnector = defineRoute({
  method: "post",
  path: "/connectors",
  role: "admin",
  audit: { action: "connector.create", resourceType: "connector" },
  tags,
  summary: "Connect a WordPress site (or another source) to the knowledge base",
  description: checks,
  request: { body: body(CreateConnectorBody) },
  responses: { 201: jsonResponse(Connector, "Connected") },
  errors: [404, 422, 502, 503],
});

export const listConnectors = defineRoute({
  method: "get",
  path: "/connectors",
  role: "member",
  audit: { action: "connector.list", resourceType: "connector" },
  tags,
  summary: "List the tenant's connectors with their last run",
  responses: { 200: jsonResponse(ConnectorList, "Connectors") },
  errors: [503],
});

export const getConnector = defineRoute({
  method: "get",
  path: "/connectors/{id}",
  role: "member",
  audit: { action: "connector.read", resourceType: "connector", param: "id" },
  tags,
  summary: "Read a connector (credential hints only)",
  request: { params: ConnectorIdParam },
  responses: { 200: jsonResponse(Connector, "The connector") },
  errors: [404, 503],
});

export const updateConnector = defineRoute({
  method: "patch",
  path: "/connectors/{id}",
  role: "admin",
  audit: { action: "connector.update", resourceType: "connector", param: "id" },
  tags,
  summary: "Change a connector's settings, schedule, scope, or rotate its credentials",
  description: `${checks} Changing the URL or the credentials checks them again.`,
  request: { params: ConnectorIdParam, body: body(UpdateConnectorBody) },
  responses: { 200: jsonResponse(Connector, "Updated") },
  errors: [404, 422, 502, 503],
});

export const deleteConnector = defineRoute({
  method: "delete",
  path: "/connectors/{id}",
  role: "admin",
  audit: { action: "connector.delete", resourceType: "connector", param: "id" },
  tags,
  summary: "Delete a connector, its schedule and credentials",
  description:
    "Stops a running sync. `knowledge=remove` (default) deletes the documents it synced; " +
    "`knowledge=keep` keeps them as ordinary documents that are no longer updated.",
  request: { params: ConnectorIdParam, query: DeleteConnectorQuery },
  responses: { 200: jsonResponse(DeleteConnectorResponse, "Deleted") },
  errors: [404, 502, 503],
});

export const syncConnector = defineRoute({
  method: "post",
  path: "/connectors/{id}/sync",
  role: "admin",
  audit: { action: "connector.sync_start", resourceType: "connector", param: "id" },
  tags,
  summary: "Start a sync now",
  description:
    "202 with the run id; the run proceeds as a Workflow (GET /connectors/{id}/runs/{run_id}). " +
    "409 while another run of this connector is queued or running.",
  request: { params: ConnectorIdParam },
  responses: { 202: jsonResponse(SyncStarted, "Run queued") },
  errors: [404, 409, 503],
});

export const listRuns = defineRoute({
  method: "get",
  path: "/connectors/{id}/runs",
  role: "member",
  audit: { action: "connector.runs", resourceType: "connector", param: "id" },
  tags,
  summary: "A connector's runs, newest first",
  request: { params: ConnectorIdParam, query: RunsQuery },
  responses: { 200: jsonResponse(RunList, "Runs") },
  errors: [404, 503],
});

export const getRun = defineRoute({
  method: "get",
  path: "/connectors/{id}/runs/{run_id}",
  role: "member",
  audit: { action: "connector.runs", resourceType: "connector", param: "id" },
  tags,
  summary: "One run: status, counts, timings and the error of a failed step",
  request: { params: RunParam },
  responses: { 200: jsonResponse(Run, "The run") },
  errors: [404, 503],
});
