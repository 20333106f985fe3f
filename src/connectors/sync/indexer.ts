import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { connectorItems } from "../../db/schema";
import type { EmbedDeps } from "../../knowledge/embedding";
import { embedDocuments } from "../../knowledge/ingest";
import { chunksChanged, type KnowledgeStore } from "../../knowledge/knowledge-store";
import type { SourceItem } from "../types";

/** Deletes per statement when removing items gone at the source. */
const IDS_PER_DELETE = 500;

export interface PageCounts {
  seen: number;
  added: number;
  updated: number;
  unchanged: number;
  failed: number;
  embedding_calls: number;
}

export interface IndexTarget {
  runId: string;
  connectorId: string;
  connectorType: string;
  agentId: string | null;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What is embedded for an item: its title, then its text. */
const documentText = (item: SourceItem) => (item.text ? `${item.title}\n\n${item.text}` : item.title);

/**
 * Writes one page of source items into the knowledge base, idempotently: an
 * item whose content hash is unchanged is skipped (not embedded); a new or
 * changed item is chunked and embedded (one provider call per 256 chunks for
 * the whole page), and its old chunks, new chunks and connector_items row are
 * written in one transaction (several items share a request when they fit). Running it again after a crash finds the items
 * it already wrote unchanged.
 */
export async function indexItems(
  db: Database,
  knowledge: KnowledgeStore,
  embed: EmbedDeps,
  target: IndexTarget,
  items: SourceItem[],
): Promise<PageCounts> {
  const counts: PageCounts = { seen: items.length, added: 0, updated: 0, unchanged: 0, failed: 0, embedding_calls: 0 };
  if (items.length === 0) return counts;
  const tenantId = embed.tenant.principal.tenantId;
  const existing = new Map(
    (
      await db
        .select({
          external_id: connectorItems.external_id,
          document_id: connectorItems.document_id,
          content_hash: connectorItems.content_hash,
          written_by_run: connectorItems.written_by_run,
          write_kind: connectorItems.write_kind,
        })
        .from(connectorItems)
        .where(
          and(
            eq(connectorItems.tenant_id, tenantId),
            eq(connectorItems.connector_id, target.connectorId),
            inArray(
              connectorItems.external_id,
              items.map((i) => i.externalId),
            ),
          ),
        )
    ).map((r) => [r.external_id, r]),
  );
  const changed: Array<{ item: SourceItem; hash: string; previous: string | undefined }> = [];
  for (const item of items) {
    // The agent scope is part of what is stored, so a new scope rewrites the item.
    const hash = await sha256(JSON.stringify([documentText(item), item.url, target.agentId]));
    const before = existing.get(item.externalId);
    if (before?.content_hash === hash) {
      // Written by this very run (a step retried after its write landed): count what it did then.
      if (before.written_by_run === target.runId && before.write_kind === "added") counts.added++;
      else if (before.written_by_run === target.runId && before.write_kind === "updated") counts.updated++;
      else counts.unchanged++;
      continue;
    }
    changed.push({ item, hash, previous: before?.document_id });
  }
  if (changed.length === 0) return counts;

  const {
    documents: docs,
    empty,
    calls,
  } = await embedDocuments(
    embed,
    changed.map(({ item, previous }) => ({
      documentId: previous ?? crypto.randomUUID(),
      agentId: target.agentId,
      title: item.title,
      metadata: {
        source: target.connectorType,
        source_url: item.url,
        connector_id: target.connectorId,
        external_id: item.externalId,
      },
      text: documentText(item),
    })),
  );
  counts.embedding_calls = calls;
  // An item with no text to embed is counted failed and left as it was.
  counts.failed += empty.length;
  const stored = changed.filter((_, i) => !empty.includes(i));
  // Per item, in one transaction: old chunks out, new chunks in, the item's hash recorded.
  await knowledge.replace(
    stored.map(({ item, hash, previous }, i) => ({
      document: docs[i]!,
      replaces: previous ?? null,
      also: [
        db
          .insert(connectorItems)
          .values({
            tenant_id: tenantId,
            connector_id: target.connectorId,
            external_id: item.externalId,
            document_id: docs[i]!.documentId,
            content_hash: hash,
            source_url: item.url,
            source_modified: item.modified,
            written_by_run: target.runId,
            write_kind: previous ? "updated" : "added",
          })
          .onConflictDoUpdate({
            target: [connectorItems.connector_id, connectorItems.external_id],
            set: {
              document_id: sqlExcluded("document_id"),
              content_hash: sqlExcluded("content_hash"),
              source_url: sqlExcluded("source_url"),
              source_modified: sqlExcluded("source_modified"),
              written_by_run: sqlExcluded("written_by_run"),
              write_kind: sqlExcluded("write_kind"),
            },
          }),
      ],
    })),
  );
  for (const c of stored) {
    if (c.previous) counts.updated++;
    else counts.added++;
  }
  return counts;
}

/** Removes the documents of items no longer at the source (not in `live`); returns how many. */
export async function removeGone(
  db: Database,
  knowledge: KnowledgeStore,
  tenantId: string,
  connectorId: string,
  live: Set<string>,
): Promise<number> {
  const rows = await db
    .select({ id: connectorItems.id, external_id: connectorItems.external_id, document_id: connectorItems.document_id })
    .from(connectorItems)
    .where(and(eq(connectorItems.tenant_id, tenantId), eq(connectorItems.connector_id, connectorId)));
  const gone = rows.filter((r) => !live.has(r.external_id));
  for (let i = 0; i < gone.length; i += IDS_PER_DELETE) {
    const slice = gone.slice(i, i + IDS_PER_DELETE);
    await db
      .batch([
        knowledge.removeStatement(slice.map((r) => r.document_id)),
        db.delete(connectorItems).where(
          inArray(
            connectorItems.id,
            slice.map((r) => r.id),
          ),
        ),
      ])
      .finally(() => chunksChanged(tenantId));
  }
  return gone.length;
}

const sqlExcluded = (column: string) => sql.raw(`excluded.${column}`);
