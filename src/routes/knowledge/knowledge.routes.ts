import { createRoute } from "@hono/zod-openapi";
import { bearerSecurity, jsonResponse, problemResponses } from "../../lib/openapi";
import { auditTarget } from "../../audit/audited";
import {
  AddBatchResponse,
  AddDocumentResponse,
  BatchBody,
  DeleteDocumentResponse,
  DocumentInput,
  DocumentList,
  DocumentParam,
  ListDocumentsQuery,
  SearchBody,
  SearchResponse,
} from "./knowledge.schemas";

const tags = ["Knowledge"];
const body = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
const embeds = "Embeds with the tenant's own OpenAI key (422 provider_key_missing without one).";

export const addDocument = createRoute({
  method: "post",
  path: "/knowledge/documents",
  middleware: [auditTarget("knowledge.create", "knowledge_document")] as const,
  tags,
  summary: "Add a document",
  description: `Admins only. Split into chunks of about 1,200 characters with 200 characters of overlap; every chunk is embedded and stored. ${embeds}`,
  security: bearerSecurity,
  request: { body: body(DocumentInput) },
  responses: {
    201: jsonResponse(AddDocumentResponse, "Stored"),
    ...problemResponses(400, 401, 403, 404, 413, 422, 429, 502, 503),
  },
});

export const addDocuments = createRoute({
  method: "post",
  path: "/knowledge/documents/batch",
  middleware: [auditTarget("knowledge.create_batch", "knowledge_document")] as const,
  tags,
  summary: "Add up to 50 documents at once",
  description: `Admins only. All documents are stored, or none. ${embeds}`,
  security: bearerSecurity,
  request: { body: body(BatchBody) },
  responses: {
    201: jsonResponse(AddBatchResponse, "Stored"),
    ...problemResponses(400, 401, 403, 404, 413, 422, 429, 502, 503),
  },
});

export const listDocuments = createRoute({
  method: "get",
  path: "/knowledge/documents",
  middleware: [auditTarget("knowledge.list", "knowledge_document")] as const,
  tags,
  summary: "List documents, newest first",
  security: bearerSecurity,
  request: { query: ListDocumentsQuery },
  responses: { 200: jsonResponse(DocumentList, "One entry per document"), ...problemResponses(400, 401, 429, 503) },
});

export const deleteDocument = createRoute({
  method: "delete",
  path: "/knowledge/documents/{document_id}",
  middleware: [auditTarget("knowledge.delete", "knowledge_document", "document_id")] as const,
  tags,
  summary: "Delete a document and all its chunks",
  security: bearerSecurity,
  request: { params: DocumentParam },
  responses: {
    200: jsonResponse(DeleteDocumentResponse, "Deleted"),
    ...problemResponses(400, 401, 403, 404, 429, 503),
  },
});

export const searchKnowledge = createRoute({
  method: "post",
  path: "/knowledge/search",
  middleware: [auditTarget("knowledge.search", "knowledge_document")] as const,
  tags,
  summary: "Hybrid (semantic + full-text) search over the tenant's knowledge",
  description:
    "The k best chunks from the caller's tenant only, ranked by reciprocal rank fusion of two lists: the chunks nearest to the query by cosine similarity " +
    'and the chunks matching every query term in full text (web-search syntax: "quoted phrase", -exclude, or). Exact terms such as error codes and ids ' +
    `rank first even when their embedding is not the closest. \`score\` stays the cosine similarity; \`rank_score\` is the fused rank. ${embeds}`,
  security: bearerSecurity,
  request: { body: body(SearchBody) },
  responses: {
    200: jsonResponse(SearchResponse, "Best first"),
    ...problemResponses(400, 401, 404, 413, 422, 429, 502, 503),
  },
});
