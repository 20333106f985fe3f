/**
 * Knowledge ranking quality: vector-only vs hybrid (vector + full text, RRF)
 * on a small labelled set generated here, deterministically. Both rankings run
 * the store's own statement (KnowledgeStore.search) against PGlite + pgvector
 * through the Neon stand-in, with the stand-in's word-hash embeddings:
 * "vector only" is the same statement with an empty text query, whose
 * full-text list is empty, so RRF reduces to the cosine order.
 *
 *   npx tsx bench/knowledge-ranking.ts
 *
 * Caveat: word-hash embeddings are not a language model. They match shared
 * words, never synonyms, so paraphrase figures here say little about real
 * embeddings; the exact-term figures say more (real embeddings also blur ids).
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import { fileURLToPath } from "node:url";
import { embedText } from "../local-stack/llm-provider/embeddings";
import { startNeonHttp } from "../local-stack/neon-http/server";
import { migrateDatabase } from "../scripts/migrate";
import { EMBEDDING_DIMENSIONS, schema } from "../src/db/schema";
import { loadKnowledgeStore } from "./load-store";
import { printTable, rng, section, type Row } from "./stats";

const TENANT = "00000000-0000-4000-8000-00000000a11c";
/** Results read per query: hit@1, hit@5 and MRR@10 come from the same list. */
const K = 10;

export type Category = "paraphrase" | "exact-term" | "exact-term question" | "id";
export type Ranking = "vector only" | "hybrid (RRF)";

export interface RankingRow {
  ranking: Ranking;
  category: Category | "all";
  queries: number;
  hit1: number;
  hit5: number;
  mrr: number;
}

interface Doc {
  key: string;
  title: string;
  content: string;
}
interface Query {
  text: string;
  expect: string;
  category: Category;
}

/** Help-centre topics: [key, title, content, a reworded question sharing only some words]. */
const TOPICS: Array<[string, string, string, string]> = [
  [
    "router",
    "Router reset",
    "To reset the office router, hold the reset button on its back for ten seconds until the lights blink amber. It reboots with the default network name.",
    "my wifi box is stuck, how do I restart the router",
  ],
  [
    "vpn",
    "VPN access",
    "Remote staff connect through the VPN client. Install it from the software portal, sign in with your company account and approve the push notification.",
    "how can I reach internal sites when working from home",
  ],
  [
    "password",
    "Password changes",
    "Passwords expire every ninety days. Change yours in the account settings page; the new password needs twelve characters and one digit.",
    "my login expired, where do I set a new password",
  ],
  [
    "billing",
    "Invoices",
    "Invoices are issued monthly on the first working day. Billing questions go to the finance team by email with the invoice number.",
    "who answers questions about a monthly invoice",
  ],
  [
    "vacation",
    "Vacation days",
    "Employees get twenty five vacation days per year, booked in the holiday planner and approved by their manager.",
    "how many days off do I get each year",
  ],
  [
    "printer",
    "Printing",
    "Printers on every floor accept jobs from the print queue. Badge in at the printer to release a job; colour printing needs approval.",
    "the printer will not release my document",
  ],
  [
    "expenses",
    "Expense reports",
    "Submit expense reports within thirty days with photos of receipts. Reimbursement arrives with the next salary payment.",
    "when do I get money back for receipts I paid",
  ],
  [
    "laptop",
    "Laptop replacement",
    "Laptops are replaced every four years or when broken. Open a hardware request and keep the old laptop until the new one is set up.",
    "my computer is broken, how do I get a new one",
  ],
  [
    "backup",
    "Backups",
    "File shares are backed up every night and kept for ninety days. Restores are requested through the service desk.",
    "I deleted a file yesterday, can it be brought back",
  ],
  [
    "rooms",
    "Meeting rooms",
    "Meeting rooms are booked in the calendar by adding the room as a guest. Rooms free up after fifteen minutes without check in.",
    "how do I reserve a room for a meeting",
  ],
  [
    "travel",
    "Business travel",
    "Book flights and hotels through the travel portal. Trips abroad need manager approval two weeks before departure.",
    "who must approve a trip to another country",
  ],
  [
    "parking",
    "Parking",
    "The garage has forty spaces, assigned weekly by lottery. Electric cars may charge for up to four hours.",
    "can I charge my electric car at the office",
  ],
  [
    "badge",
    "Security badges",
    "Lost badges must be reported to security at once; a replacement badge is printed at reception the same day.",
    "I lost my access card, what now",
  ],
  [
    "onboarding",
    "Onboarding",
    "New hires receive a laptop, an account and a buddy on their first day. The onboarding checklist lives in the wiki.",
    "what happens on a new employee's first day",
  ],
  [
    "shipping",
    "Shipping orders",
    "Orders ship within two business days from the central warehouse. Tracking links are emailed once the parcel leaves.",
    "when will my order leave the warehouse",
  ],
  [
    "returns",
    "Returns",
    "Customers may return unused products within thirty days for a full refund. Print the return label from the order page.",
    "how do I send a product back and get a refund",
  ],
];

/** Error reference entries: [code, what happens, cause, fix]. Written alike on purpose, as real references are. */
const ERRORS: Array<[string, string, string, string]> = [
  [
    "ERR-4011",
    "the request is rejected before it reaches the service",
    "the access token has expired",
    "sign in again to obtain a new token",
  ],
  [
    "ERR-4013",
    "the request is rejected by the service",
    "the token lacks the required scope",
    "ask an administrator to grant the scope",
  ],
  [
    "ERR-4029",
    "the service rejects further requests for a while",
    "the tenant exceeded its request rate",
    "wait for the period given in the retry header",
  ],
  [
    "ERR-4130",
    "the upload is rejected by the service",
    "the request body is larger than ten megabytes",
    "split the upload into smaller parts",
  ],
  [
    "ERR-4220",
    "the request is rejected by the service",
    "a field failed validation",
    "correct the fields named in the error details",
  ],
  [
    "ERR-4090",
    "the write is rejected by the service",
    "another request changed the record first",
    "reload the record and apply the change again",
  ],
  [
    "ERR-5002",
    "the service returns an error after a delay",
    "an upstream provider did not answer in time",
    "retry the request after a few seconds",
  ],
  [
    "ERR-5031",
    "the service returns an error at once",
    "the database is unavailable",
    "retry later; the status page shows incidents",
  ],
  [
    "ERR-5034",
    "the service returns an error at once",
    "the secret store is sealed",
    "an operator must unseal the secret store",
  ],
  [
    "ERR-4044",
    "the request returns not found",
    "the record does not exist in this tenant",
    "check the identifier and the tenant",
  ],
  ["ERR-4015", "the request is rejected by the service", "the provider key was revoked", "store a new provider key"],
  [
    "ERR-5009",
    "the service returns an error during streaming",
    "the provider closed the connection",
    "retry the request; partial answers are discarded",
  ],
];

/** Support tickets: [id, customer, story]. */
const TICKETS: Array<[string, string, string]> = [
  ["TCK-20931", "Acme", "reports the dashboard loads slowly after the upgrade; assigned to the platform team"],
  ["TCK-20957", "Globex", "cannot export reports to spreadsheet since Monday; assigned to the reporting team"],
  ["TCK-21004", "Initech", "asks for a refund of a duplicate invoice; assigned to the finance team"],
  ["TCK-21018", "Umbrella", "sees login failures for users of one region; assigned to the identity team"],
  ["TCK-21077", "Hooli", "requests more seats on the enterprise plan; assigned to the sales team"],
  ["TCK-21102", "Stark", "reports the dashboard shows stale numbers; assigned to the platform team"],
  ["TCK-21139", "Wayne", "cannot upload files larger than ten megabytes; assigned to the storage team"],
  ["TCK-21160", "Wonka", "asks how to rotate the provider key; assigned to the security team"],
];

/** Short pages that share the vocabulary of codes and tickets without naming one. */
const GENERIC: Doc[] = [
  {
    key: "g-errors",
    title: "Troubleshooting errors",
    content:
      "Most errors from the service go away after a retry. If an error persists, note the error code and contact support.",
  },
  {
    key: "g-codes",
    title: "Error codes",
    content:
      "Every error code starts with ERR. Codes in the four thousands are request errors; five thousands are service errors.",
  },
  {
    key: "g-tickets",
    title: "Support tickets",
    content:
      "Open a support ticket for any problem. Each ticket gets an id starting with TCK and is assigned to a team.",
  },
  {
    key: "g-status",
    title: "Ticket status",
    content: "The status of a ticket is shown on the support page: open, assigned, waiting for customer, or closed.",
  },
];

/** Release-note sentences: chunk-sized notes are built from these, each naming one code once. */
const NOTE_SENTENCES = [
  "The dashboard now loads reports in the background and shows a progress bar while the numbers refresh.",
  "Exports to spreadsheet keep the column order chosen in the report view.",
  "Administrators can rotate provider keys without interrupting running conversations.",
  "The audit page filters by action, outcome and date, and remembers the last filter used.",
  "Search results show the document title and the chunk that matched, with a link to the source.",
  "Agents can be disabled for maintenance; requests to a disabled agent are refused with a clear message.",
  "The request log keeps thirty days of history and can be downloaded by administrators.",
  "Large uploads are split automatically and resumed after a dropped connection.",
  "Login pages load faster in regions far from the main data centre.",
  "Streaming answers start sooner because the first words are sent as soon as they arrive.",
  "The billing page lists every invoice with its status and a download link.",
  "Rate limits are shown per tenant on the usage page, with the time until the window resets.",
];
const NOTE_CODES: Array<[string, string]> = [
  ["ERR-6012", "Fixed ERR-6012, which appeared when a report was exported twice at the same moment."],
  ["ERR-6047", "Fixed ERR-6047, raised when a conversation was resumed after its agent was renamed."],
  ["ERR-6105", "Fixed ERR-6105, seen by tenants whose provider key was rotated during a stream."],
  ["ERR-6130", "Fixed ERR-6130, returned when an audit filter named a deleted user."],
  ["ERR-6188", "Fixed ERR-6188, which hid search results whose title contained a slash."],
  ["ERR-6221", "Fixed ERR-6221, thrown when an upload resumed on a different server."],
];

/** A release note of about 1,000 characters (one chunk, as the chunker cuts them) naming `line`'s code once, in the middle. */
function releaseNote(line: string, rand: () => number): string {
  const pool = [...NOTE_SENTENCES];
  const picked: string[] = [];
  while (picked.join(" ").length < 900) picked.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]!);
  picked.splice(Math.floor(picked.length / 2), 0, line);
  return picked.join(" ");
}

/**
 * The labelled set: 46 documents, 72 queries (20 paraphrase, 18 exact-term, 18 exact-term
 * question, 16 id). Exact-term queries come as the bare code and as a question
 * ("what does error X mean"); full text matches a question only when the chunk holds every
 * term (websearch_to_tsquery ANDs them), which "mean" and "error" rarely allow.
 * The six chunk-sized release notes (added after the first run: the short error entries
 * alone were easy for word-hash vectors) name a code once among ~150 other words.
 */
export function labelledSet(): { docs: Doc[]; queries: Query[] } {
  const docs: Doc[] = [];
  const queries: Query[] = [];
  for (const [key, title, content, question] of TOPICS) {
    docs.push({ key, title, content });
    queries.push({ text: question, expect: key, category: "paraphrase" });
  }
  for (const [code, what, cause, fix] of ERRORS) {
    docs.push({
      key: code,
      title: `Error ${code}`,
      content: `${code}: ${what}. Cause: ${cause}. Fix: ${fix}. If the error persists, contact support with the error code and the request id.`,
    });
    queries.push({ text: code, expect: code, category: "exact-term" });
    queries.push({ text: `what does error ${code} mean`, expect: code, category: "exact-term question" });
  }
  // Four symptom questions for error entries: paraphrase, not the code.
  queries.push({ text: "my upload is too big and gets refused", expect: "ERR-4130", category: "paraphrase" });
  queries.push({ text: "the secret store is sealed, what do I do", expect: "ERR-5034", category: "paraphrase" });
  queries.push({ text: "someone else changed the record before my write", expect: "ERR-4090", category: "paraphrase" });
  queries.push({ text: "my access token expired", expect: "ERR-4011", category: "paraphrase" });
  for (const [id, customer, story] of TICKETS) {
    docs.push({
      key: id,
      title: `Ticket ${id}`,
      content: `Ticket ${id}: customer ${customer} ${story}. Status: open.`,
    });
    queries.push({ text: id, expect: id, category: "id" });
    queries.push({ text: `status of ticket ${id}`, expect: id, category: "id" });
  }
  const rand = rng(20261117);
  NOTE_CODES.forEach(([code, line], i) => {
    docs.push({ key: code, title: `Release notes ${i + 1}`, content: releaseNote(line, rand) });
    queries.push({ text: code, expect: code, category: "exact-term" });
    queries.push({ text: `what does error ${code} mean`, expect: code, category: "exact-term question" });
  });
  docs.push(...GENERIC);
  return { docs, queries };
}

/** 1-based rank of the expected document in the results, 0 when absent. */
const rankOf = (documentIds: string[], expected: string) => documentIds.indexOf(expected) + 1;

function summarise(ranking: Ranking, category: RankingRow["category"], ranks: number[]): RankingRow {
  const n = ranks.length;
  return {
    ranking,
    category,
    queries: n,
    hit1: ranks.filter((r) => r === 1).length / n,
    hit5: ranks.filter((r) => r >= 1 && r <= 5).length / n,
    mrr: ranks.reduce((s, r) => s + (r ? 1 / r : 0), 0) / n,
  };
}

export interface MeasureOptions {
  /** An existing Neon SQL-over-HTTP endpoint with the migrations applied; by default an in-memory stand-in is started. */
  fetchEndpoint?: string;
  databaseUrl?: string;
  /** A tenant id of its own, so the set never mixes with other data in a shared database. */
  tenantId?: string;
}

/** Loads the labelled set and measures both rankings; one row per ranking × (all, each category). */
export async function measureRanking(opts: MeasureOptions = {}): Promise<RankingRow[]> {
  const server = opts.fetchEndpoint ? null : await startNeonHttp({});
  const databaseUrl = opts.databaseUrl ?? "postgresql://bench:bench@ep-bench.localtest.me/brain";
  const fetchEndpoint = opts.fetchEndpoint ?? server!.url;
  try {
    if (server) await migrateDatabase({ databaseUrl, fetchEndpoint });
    neonConfig.fetchEndpoint = fetchEndpoint;
    const { KnowledgeStore } = await loadKnowledgeStore();
    const store = new KnowledgeStore(drizzle({ client: neon(databaseUrl), schema }), opts.tenantId ?? TENANT);
    const { docs, queries } = labelledSet();
    const idOf = new Map<string, string>();
    await store.insert(
      docs.map((d) => {
        const documentId = crypto.randomUUID();
        idOf.set(documentId, d.key);
        return {
          documentId,
          agentId: null,
          title: d.title,
          metadata: {},
          chunks: [{ content: d.content, embedding: embedText(d.content, EMBEDDING_DIMENSIONS) }],
        };
      }),
    );
    const ranks: Record<Ranking, Array<{ category: Category; rank: number }>> = {
      "vector only": [],
      "hybrid (RRF)": [],
    };
    for (const q of queries) {
      const embedding = embedText(q.text, EMBEDDING_DIMENSIONS);
      for (const [ranking, text] of [
        ["vector only", ""],
        ["hybrid (RRF)", q.text],
      ] as const) {
        const hits = await store.search(embedding, text, { kind: "tenant" }, K);
        ranks[ranking].push({
          category: q.category,
          rank: rankOf(
            hits.map((h) => idOf.get(h.document_id)!),
            q.expect,
          ),
        });
      }
    }
    const rows: RankingRow[] = [];
    for (const ranking of ["vector only", "hybrid (RRF)"] as const) {
      rows.push(
        summarise(
          ranking,
          "all",
          ranks[ranking].map((r) => r.rank),
        ),
      );
      for (const category of ["paraphrase", "exact-term", "exact-term question", "id"] as const) {
        rows.push(
          summarise(
            ranking,
            category,
            ranks[ranking].filter((r) => r.category === category).map((r) => r.rank),
          ),
        );
      }
    }
    return rows;
  } finally {
    await server?.close();
  }
}

/** The figures as rows of bench/stats.ts's table: hit@1 in "median", MRR@10 in "p95", hit@5 in "ratio". */
export function rankingTableRows(rows: RankingRow[]): Row[] {
  return [
    section(
      "knowledge ranking (46 docs, 72 labelled queries, stand-in embeddings): median = hit@1, p95 = MRR@10, ratio = hit@5",
    ),
    ...rows.map((r) => ({
      name: `${r.ranking} · ${r.category}`,
      n: String(r.queries),
      median: r.hit1.toFixed(3),
      p95: r.mrr.toFixed(3),
      ratio: r.hit5.toFixed(3),
      aim: "",
    })),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await measureRanking();
  printTable(
    rows.map((r) => ({
      name: `${r.ranking} · ${r.category}`,
      n: String(r.queries),
      median: r.hit1.toFixed(3),
      p95: r.mrr.toFixed(3),
      ratio: r.hit5.toFixed(3),
      aim: "",
    })),
    { name: "ranking · queries", n: "n", median: "hit@1", p95: "MRR@10", ratio: "hit@5", aim: "" },
  );
}
