import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import {
  AddBatchResponse,
  AddDocumentBody,
  AddDocumentResponse,
  BatchBody,
  DeleteDocumentResponse,
  DocumentList,
  DocumentParam,
  IngestJob,
  JobList,
  JobParam,
  KnowledgeSettings,
  KnowledgeSettingsBody,
  ListJobsQuery,
  ListDocumentsQuery,
  SearchBody,
  SearchResponse,
} from "./knowledge.schemas";

const tags = ["Knowledge"];
const body = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
const embeds =
  "Embeds with the tenant's own key for its embedding provider (GET /knowledge/settings; OpenAI by default): 422 provider_key_missing without one.";

export const addDocument = defineRoute({
  method: "post",
  path: "/knowledge/documents",
  role: "admin",
  audit: { action: "knowledge.create", resourceType: "knowledge_document" },
  bodyLimit: "maxDocumentBodyBytes",
  tags,
  summary: "Add a document",
  description:
    "Split into chunks of about 1,200 characters with 200 characters of overlap; every chunk is embedded and stored. " +
    "A document over KNOWLEDGE_ASYNC_ABOVE_CHARS characters (default 50,000), or sent with `async: true`, is stored off the request " +
    "by a Workflow: 202 with the job (Location: /knowledge/jobs/{job_id}); the document is listed and searchable once the job has succeeded. " +
    embeds,
  request: { body: body(AddDocumentBody) },
  responses: {
    201: jsonResponse(AddDocumentResponse, "Stored"),
    202: jsonResponse(IngestJob, "Accepted: a Workflow stores it (GET /knowledge/jobs/{job_id})"),
  },
  errors: [402, 404, 422, 502, 503],
});

export const addDocuments = defineRoute({
  method: "post",
  path: "/knowledge/documents/batch",
  role: "admin",
  audit: { action: "knowledge.create_batch", resourceType: "knowledge_document" },
  bodyLimit: "maxDocumentBodyBytes",
  tags,
  summary: "Add up to 50 documents at once",
  description:
    "All documents are stored, or none. A batch with any document over KNOWLEDGE_ASYNC_ABOVE_CHARS characters, or sent with `async: true`, " +
    "is stored off the request by one Workflow job for the whole batch: 202 with the job (Location: /knowledge/jobs/{job_id}), whose `documents` " +
    "carry every document's id, fixed now; the documents are listed and searchable once the job has succeeded, and a failed job leaves none of them. " +
    embeds,
  request: { body: body(BatchBody) },
  responses: {
    201: jsonResponse(AddBatchResponse, "Stored"),
    202: jsonResponse(IngestJob, "Accepted: one Workflow job stores the whole batch (GET /knowledge/jobs/{job_id})"),
  },
  errors: [402, 404, 422, 502, 503],
});

export const listDocuments = defineRoute({
  method: "get",
  path: "/knowledge/documents",
  role: "member",
  audit: { action: "knowledge.list", resourceType: "knowledge_document" },
  tags,
  summary: "List documents, newest first",
  request: { query: ListDocumentsQuery },
  responses: { 200: jsonResponse(DocumentList, "One entry per document") },
  errors: [503],
});

export const deleteDocument = defineRoute({
  method: "delete",
  path: "/knowledge/documents/{document_id}",
  role: "admin",
  audit: { action: "knowledge.delete", resourceType: "knowledge_document", param: "document_id" },
  tags,
  summary: "Delete a document and all its chunks",
  request: { params: DocumentParam },
  responses: {
    200: jsonResponse(DeleteDocumentResponse, "Deleted"),
  },
  errors: [404, 503],
});

export const searchKnowledge = defineRoute({
  method: "post",
  path: "/knowledge/search",
  role: "member",
  audit: { action: "knowledge.search", resourceType: "knowledge_document" },
  tags,
  summary: "Hybrid (semantic + full-text) search over the tenant's knowledge",
  description:
    "The k best chunks from the caller's tenant only, ranked by reciprocal rank fusion of two lists: the chunks nearest to the query by cosine similarity " +
    'and the chunks matching every query term in full text (web-search syntax: "quoted phrase", -exclude, or). Exact terms such as error codes and ids ' +
    `rank first even when their embedding is not the closest. \`score\` stays the cosine similarity; \`rank_score\` is the fused rank. ${embeds}`,
  request: { body: body(SearchBody) },
  responses: {
    200: jsonResponse(SearchResponse, "Best first"),
  },
  errors: [402, 404, 422, 502, 503],
});

export const getJob = defineRoute({
  method: "get",
  path: "/knowledge/jobs/{job_id}",
  role: "member",
  audit: { action: "knowledge.job", resourceType: "knowledge_job", param: "job_id" },
  tags,
  summary: "A large upload's job (one document or a batch): status, counts, documents, the failed step's error",
  request: { params: JobParam },
  responses: { 200: jsonResponse(IngestJob, "The job") },
  errors: [404, 503],
});

export const listJobs = defineRoute({
  method: "get",
  path: "/knowledge/jobs",
  role: "member",
  audit: { action: "knowledge.jobs", resourceType: "knowledge_job" },
  tags,
  summary: "The tenant's large-upload jobs, newest first",
  description:
    "Cursor-paginated (`limit`, then `cursor` = the previous page's `next_cursor`), optionally of one `status`. " +
    "A job whose Workflow instance ended without recording it is reported failed (`job_lost`), as GET /knowledge/jobs/{job_id} does.",
  request: { query: ListJobsQuery },
  responses: { 200: jsonResponse(JobList, "A page of jobs") },
  errors: [503],
});

export const getKnowledgeSettings = defineRoute({
  method: "get",
  path: "/knowledge/settings",
  role: "member",
  audit: { action: "knowledge.settings_read", resourceType: "knowledge_settings" },
  tags,
  summary: "The tenant's knowledge settings: which provider embeds its knowledge",
  responses: { 200: jsonResponse(KnowledgeSettings, "The settings (the defaults until set)") },
  errors: [503],
});

export const setKnowledgeSettings = defineRoute({
  method: "put",
  path: "/knowledge/settings",
  role: "admin",
  audit: { action: "knowledge.settings_update", resourceType: "knowledge_settings" },
  tags,
  summary: "Choose the embedding provider: OpenAI, or an embeddings deployment of the tenant's Azure OpenAI resource",
  description:
    "The choice is checked with one embedding call before it is stored: the tenant must hold that provider's key (422 provider_key_missing), " +
    "and the deployment must exist, embed, and answer 1536-dimensional vectors (422 provider_misconfigured). Vectors of two models cannot be searched " +
    "together, so the provider or deployment changes only while the tenant has no knowledge chunks, upload jobs or connector syncs in flight " +
    "(409 knowledge_not_empty: delete the documents first).",
  request: { body: body(KnowledgeSettingsBody) },
  responses: { 200: jsonResponse(KnowledgeSettings, "Stored") },
  errors: [402, 409, 422, 502, 503],
});
