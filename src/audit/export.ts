import type { ChainedRow } from "./chain";

/** Export columns, in order: the chain's place first, then the chained fields. */
export const EXPORT_COLUMNS = [
  "seq",
  "id",
  "tenant_id",
  "created_at",
  "user_id",
  "action",
  "resource_type",
  "resource_id",
  "outcome",
  "request_id",
  "ip_address",
  "user_agent",
  "details",
  "prev_hash",
  "hash",
] as const satisfies ReadonlyArray<keyof ChainedRow>;

/** RFC 4180: quote a field when it holds a comma, quote or line break; double the quotes. */
function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line of the export (with its line break). CSV `details` is the JSON text; empty means null. */
export function exportLine(row: ChainedRow, format: "ndjson" | "csv"): string {
  if (format === "ndjson") {
    const out: Record<string, unknown> = {};
    for (const c of EXPORT_COLUMNS) out[c] = row[c];
    return `${JSON.stringify(out)}\n`;
  }
  return `${EXPORT_COLUMNS.map((c) => csvField(row[c])).join(",")}\r\n`;
}

/**
 * The export as a byte stream, pulled a page at a time: a row is read from the
 * database only when the client has taken what came before, so a large export
 * is never held in memory. A failure mid-stream is logged and errors the stream
 * (the client sees a cut download, not a silently short file).
 */
export function exportStream(
  rows: AsyncIterator<ChainedRow>,
  format: "ndjson" | "csv",
  onError: (err: unknown) => void,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let headerSent = format !== "csv";
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(`${EXPORT_COLUMNS.join(",")}\r\n`));
          return;
        }
        try {
          const next = await rows.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(exportLine(next.value, format)));
        } catch (err) {
          onError(err);
          controller.error(new Error("audit export failed"));
        }
      },
      async cancel() {
        await rows.return?.(undefined);
      },
    },
    { highWaterMark: 64 },
  );
}
