/**
 * An auditor's check of a tenant's audit hash chain, without the Worker:
 * re-computes every row's SHA-256 (README "Audit trail", src/audit/chain.ts)
 * straight from the database or from an export file.
 *
 *   DATABASE_URL=postgres://… npm run audit:verify -- --tenant <uuid> [--from-seq N] [--to-seq N]
 *   npm run audit:verify -- --file audit.ndjson          (or a .csv export)
 *
 * Prints a JSON report; exits 0 when everything checked verifies, 1 at the
 * first row that does not, 2 on a usage or connection error.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { neon, neonConfig } from "@neondatabase/serverless";
import { type ChainedRow, GENESIS_HASH, type VerifyResult, verifyRows } from "../src/audit/chain";
import { EXPORT_COLUMNS } from "../src/audit/export";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 1000;

export interface DatabaseSource {
  databaseUrl: string;
  fetchEndpoint?: string | undefined;
  tenant: string;
  fromSeq?: number | undefined;
  toSeq?: number | undefined;
}

/** Verifies a tenant's chain read page by page from Postgres (Neon's HTTP API, or the stand-in). */
export async function verifyFromDatabase(o: DatabaseSource): Promise<VerifyResult & { head_seq: number }> {
  if (o.fetchEndpoint) neonConfig.fetchEndpoint = o.fetchEndpoint;
  const sql = neon(o.databaseUrl);
  const [head] = (await sql.query(`SELECT seq FROM audit_chain_heads WHERE tenant_id = $1`, [o.tenant])) as Array<{
    seq: string;
  }>;
  const headSeq = Number(head?.seq ?? 0);
  const from = o.fromSeq ?? 1;
  const to = Math.min(o.toSeq ?? headSeq, headSeq);
  let prevHash: string | null = GENESIS_HASH;
  if (from > 1) {
    const [prev] = (await sql.query(`SELECT hash FROM audit_logs WHERE tenant_id = $1 AND seq = $2`, [
      o.tenant,
      from - 1,
    ])) as Array<{ hash: string }>;
    prevHash = prev?.hash ?? null;
  }
  async function* rows(): AsyncGenerator<ChainedRow> {
    let after = from - 1;
    for (;;) {
      const page = (await sql.query(
        `SELECT * FROM audit_logs WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT ${PAGE}`,
        [o.tenant, after, to],
      )) as Array<Record<string, unknown>>;
      for (const r of page) yield { ...(r as unknown as ChainedRow), seq: Number(r.seq) };
      if (page.length < PAGE) return;
      after = Number(page.at(-1)!.seq);
    }
  }
  const result =
    from > to ? { checked: 0, last_seq: to, first_break: null } : await verifyRows(rows(), { from, prevHash, to });
  return { ...result, head_seq: headSeq };
}

/** Parses an export (NDJSON, or CSV with the export's header) into rows. */
export function rowsFromExport(text: string): ChainedRow[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith("{")) return trimmed.split("\n").map((l) => JSON.parse(l) as ChainedRow);
  const records = parseCsv(trimmed);
  const header = records.shift()!;
  if (header.join(",") !== EXPORT_COLUMNS.join(",")) throw new Error("not an audit export: unexpected CSV header");
  return records.map((fields) => {
    const row: Record<string, unknown> = {};
    header.forEach((c, i) => {
      const v = fields[i] ?? "";
      row[c] = c === "details" ? JSON.parse(v || "{}") : c === "seq" ? Number(v) : v === "" ? null : v;
    });
    return row as unknown as ChainedRow;
  });
}

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      out.push(record);
      record = [];
      field = "";
    } else field += ch;
  }
  record.push(field);
  out.push(record);
  return out;
}

/** Verifies an export file: from its first row's seq, linked to that row's prev_hash (or genesis from seq 1). */
export async function verifyFromFile(path: string): Promise<VerifyResult> {
  const rows = rowsFromExport(readFileSync(path, "utf8"));
  const first = rows[0];
  if (!first) return { checked: 0, last_seq: 0, first_break: null };
  const from = Number(first.seq);
  return await verifyRows(rows, { from, prevHash: from === 1 ? GENESIS_HASH : null });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tenant: { type: "string" },
      file: { type: "string" },
      "from-seq": { type: "string" },
      "to-seq": { type: "string" },
    },
  });
  const seqArg = (v: string | undefined) => (v === undefined ? undefined : Number.parseInt(v, 10));
  if (values.file) {
    const report = await verifyFromFile(values.file);
    console.log(JSON.stringify({ file: values.file, verified: report.first_break === null, ...report }, null, 2));
    return report.first_break ? 1 : 0;
  }
  if (!values.tenant || !UUID.test(values.tenant)) {
    console.error("usage: npm run audit:verify -- --tenant <uuid> [--from-seq N] [--to-seq N]  |  --file <export>");
    return 2;
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error("DATABASE_URL is not set (a Neon postgres:// URL, or the local stack's; see README).");
    return 2;
  }
  const report = await verifyFromDatabase({
    databaseUrl,
    fetchEndpoint: process.env.NEON_FETCH_ENDPOINT,
    tenant: values.tenant.toLowerCase(),
    fromSeq: seqArg(values["from-seq"]),
    toSeq: seqArg(values["to-seq"]),
  });
  console.log(JSON.stringify({ tenant: values.tenant, verified: report.first_break === null, ...report }, null, 2));
  return report.first_break ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      // The message can carry SQL but not credentials: the URL is never part of it.
      console.error(`audit:verify failed: ${err.message}`);
      process.exit(2);
    },
  );
}
