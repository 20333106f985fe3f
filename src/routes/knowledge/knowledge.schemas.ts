import { JOB_STATUSES } from "../../knowledge/jobs";
import { EMBEDDING_PROVIDERS } from "../../knowledge/settings";
import { deploymentProblem } from "../../llm/azure-openai";
import { z } from "../../lib/openapi";
import { storableJson, storableText } from "../../lib/text";
import { AgentIdSchema } from "../agents/agents.schemas";

const Metadata = storableJson(
  z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "metadata keys are 1-64 letters, digits, _ . or -"),
      z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]),
    )
    .refine((m) => Object.keys(m).length <= 20, "metadata has at most 20 entries"),
).openapi("DocumentMetadata", { example: { source: "handbook.pdf", page: 3 } });

export const DocumentInput = z
  .strictObject({
    title: storableText(z.string())
      .trim()
      .min(1, "title must not be empty")
      .max(300, "title is at most 300 characters")
      .nullable()
      .optional(),
    content: storableText(z.string())
      .refine((s) => s.trim().length > 0, "content must not be empty")
      .pipe(z.string().max(200_000, "content is at most 200000 characters")),
    agent_id: AgentIdSchema.optional().openapi({
      description: "Scope the document to one agent; omitted = shared by every agent of the tenant.",
    }),
    metadata: Metadata.optional(),
  })
  .openapi("DocumentInput");

export const AddDocumentBody = DocumentInput.extend({
  async: z.boolean().optional().openapi({
    description:
      "Store it off the request (202 with a job) whatever its size; documents over KNOWLEDGE_ASYNC_ABOVE_CHARS characters always are.",
  }),
}).openapi("AddDocumentRequest");

export const BatchBody = z
  .strictObject({
    documents: z.array(DocumentInput).min(1, "documents must not be empty").max(50, "at most 50 documents per batch"),
    async: z.boolean().optional().openapi({
      description:
        "Store the batch off the request (202 with one job for the whole batch) whatever its size; a batch with any document over KNOWLEDGE_ASYNC_ABOVE_CHARS characters always is.",
    }),
  })
  .openapi("DocumentBatch");

const EmbeddingUsage = z
  .object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() })
  .openapi("EmbeddingUsage");

export const StoredDocument = z
  .object({
    document_id: z.uuid(),
    title: z.string().nullable(),
    agent_id: z.string().nullable(),
    chunks: z.number().int(),
    characters: z.number().int(),
  })
  .openapi("StoredDocument");

export const AddDocumentResponse = StoredDocument.extend({ usage: EmbeddingUsage }).openapi("AddDocumentResponse");
export const AddBatchResponse = z
  .object({ documents: z.array(StoredDocument), usage: EmbeddingUsage })
  .openapi("AddBatchResponse");

export const DocumentSummary = StoredDocument.extend({
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
}).openapi("DocumentSummary");

export const ListDocumentsQuery = z.object({
  agent_id: AgentIdSchema.optional().openapi({ param: { name: "agent_id", in: "query" } }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: "limit", in: "query" } }),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, "cursor is the next_cursor of a previous page")
    .optional()
    .openapi({ param: { name: "cursor", in: "query" } }),
});

export const DocumentList = z
  .object({ items: z.array(DocumentSummary), next_cursor: z.string().nullable() })
  .openapi("DocumentList");

export const DocumentParam = z.object({
  document_id: z.uuid("document_id must be a UUID").openapi({ param: { name: "document_id", in: "path" } }),
});

export const DeleteDocumentResponse = z
  .object({ status: z.literal("success"), document_id: z.string(), deleted: z.literal(true), chunks: z.number().int() })
  .openapi("DeleteDocumentResponse");

export const SearchBody = z
  .strictObject({
    query: storableText(z.string())
      .refine((s) => s.trim().length > 0, "query must not be empty")
      .pipe(z.string().max(4000, "query is at most 4000 characters")),
    agent_id: AgentIdSchema.optional().openapi({
      description: "Search what this agent sees: its own documents and the shared ones.",
    }),
    k: z
      .number()
      .int("k must be an integer")
      .min(1, "k must be between 1 and 50")
      .max(50, "k must be between 1 and 50")
      .default(5),
  })
  .openapi("SearchRequest");

export const SearchHit = z
  .object({
    document_id: z.string(),
    chunk_index: z.number().int(),
    agent_id: z.string().nullable(),
    title: z.string().nullable(),
    content: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    score: z.number().openapi({
      description:
        "Cosine similarity of chunk and query, 1 = same direction; reported for every hit, however it was found.",
    }),
    rank_score: z.number().openapi({
      description:
        "What results are ordered by: reciprocal rank fusion, Σ 1/(60 + rank) over the vector and full-text candidate lists the chunk is in (at most 2/61).",
    }),
    vector_rank: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Position among the nearest chunks by cosine; null when not among them." }),
    text_rank: z.number().int().nullable().openapi({
      description:
        "Position among the full-text matches (every query term present); null when the chunk does not match.",
    }),
  })
  .openapi("SearchHit");

export const SearchResponse = z
  .object({ results: z.array(SearchHit), usage: EmbeddingUsage })
  .openapi("SearchResponse");

export const JobParam = z.object({
  job_id: z.uuid("job_id must be a UUID").openapi({ param: { name: "job_id", in: "path" } }),
});

const JobStatus = z.enum(JOB_STATUSES);

export const JobDocument = z
  .object({
    document_id: z.uuid(),
    title: z.string().nullable(),
    agent_id: z.string().nullable(),
    characters: z.number().int(),
    chunks: z.number().int().openapi({ description: "0 until the job has succeeded." }),
  })
  .openapi("JobDocument");

export const IngestJob = z
  .object({
    job_id: z.uuid(),
    kind: z.enum(["document", "batch"]).openapi({
      description:
        "`document`: POST /knowledge/documents; `batch`: POST /knowledge/documents/batch (one job for the batch).",
    }),
    document_id: z.uuid().nullable().openapi({
      description:
        "The document the job stores (listed and searchable once succeeded); null for a batch (see `documents`).",
    }),
    status: JobStatus,
    title: z.string().nullable().openapi({ description: "The document's title; null for a batch." }),
    agent_id: z.string().nullable().openapi({ description: "The document's agent scope; null for a batch." }),
    characters: z.number().int().openapi({ description: "All documents' characters together." }),
    chunks: z.number().int().openapi({ description: "All documents' chunks together; 0 until succeeded." }),
    embedding_calls: z.number().int(),
    documents: z.array(JobDocument).openapi({
      description:
        "What the job stores, in upload order (ids fixed at upload): one for a single document, each of a batch.",
    }),
    error: z
      .object({ step: z.string(), code: z.string(), message: z.string() })
      .nullable()
      .openapi({ description: "The failed step and a stable code; null unless failed." }),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
  })
  .openapi("IngestJob");

export const ListJobsQuery = z.object({
  status: JobStatus.optional().openapi({
    param: { name: "status", in: "query" },
    description: "Only jobs of this status.",
  }),
  limit: ListDocumentsQuery.shape.limit,
  cursor: ListDocumentsQuery.shape.cursor,
});

export const JobList = z
  .object({ items: z.array(IngestJob), next_cursor: z.string().nullable() })
  .openapi("IngestJobList");

const EmbeddingProvider = z.enum(EMBEDDING_PROVIDERS).openapi({
  description:
    "Whose key embeds the tenant's knowledge and its search queries: `openai` (EMBEDDING_MODEL, the default) or `azure-openai` (an embeddings deployment of the tenant's Azure OpenAI resource).",
});

export const KnowledgeSettingsBody = z
  .strictObject({
    embedding_provider: EmbeddingProvider,
    embedding_deployment: z.string().max(64).optional().openapi({
      description:
        "With `azure-openai` (required): the resource's embeddings deployment, answering 1536-dimensional vectors (text-embedding-3-small).",
      example: "text-embedding-3-small",
    }),
  })
  .superRefine((b, ctx) => {
    const d = b.embedding_deployment;
    if (b.embedding_provider === "azure-openai") {
      const problem = d === undefined ? "embedding_deployment is required for azure-openai" : deploymentProblem(d);
      if (problem) ctx.addIssue({ code: "custom", path: ["embedding_deployment"], message: problem });
    } else if (d !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["embedding_deployment"],
        message: "embedding_deployment is for azure-openai only (openai embeds with EMBEDDING_MODEL)",
      });
    }
  })
  .openapi("KnowledgeSettingsRequest");

export const KnowledgeSettings = z
  .object({
    embedding_provider: EmbeddingProvider,
    embedding_deployment: z.string().nullable(),
    embedding_model: z
      .string()
      .openapi({ description: "What embeds: EMBEDDING_MODEL for openai, the deployment for azure-openai." }),
    dimensions: z.number().int().openapi({ description: "The vectors' width; every choice must answer it." }),
    updated_at: z.string().nullable().openapi({ description: "null: never set (the defaults apply)." }),
  })
  .openapi("KnowledgeSettings");
