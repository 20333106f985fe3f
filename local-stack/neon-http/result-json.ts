/**
 * Writes query results as the proxy does (`query_to_json`, `json.rs`): JSON
 * text built by hand so key order, duplicate column names in object mode and
 * the running response-size check all match.
 */
import type { RawResult } from "./backend.js";
import { MAX_RESPONSE_BYTES, ProxyError } from "./protocol.js";

/** Resolves an array type's element OID; undefined for non-array types. */
export type ElementTypeOf = (oid: number) => number | undefined;

export interface WriteOptions {
  arrayMode: boolean;
  rawOutput: boolean;
  elementTypeOf: ElementTypeOf;
}

/**
 * Accumulates one response body and enforces the proxy's 10 MiB cap, which is
 * checked after each row against everything written so far.
 */
export class ResponseWriter {
  #parts: string[] = [];
  #length = 0;

  constructor(private readonly max = MAX_RESPONSE_BYTES) {}

  write(text: string): void {
    this.#parts.push(text);
    // Byte length matters (the cap is in bytes); ASCII-only text is the fast path.
    this.#length += Buffer.byteLength(text);
  }

  checkSize(): void {
    if (this.#length > this.max) {
      throw new ProxyError(507, `response is too large (max is ${this.max} bytes)`);
    }
  }

  toString(): string {
    return this.#parts.join("");
  }
}

/** Writes one result object: rowAsArray, fields, rows, command, rowCount. */
export function writeResult(out: ResponseWriter, result: RawResult, opts: WriteOptions): void {
  const [command, rowCount] = parseCommandTag(result.commandTag ?? "");
  out.write(`{"rowAsArray":${opts.arrayMode},"fields":${JSON.stringify(result.fields)},"rows":[`);
  result.rows.forEach((row, i) => {
    out.write((i === 0 ? "" : ",") + rowToJson(row, result, opts));
    out.checkSize();
  });
  out.write(`],"command":${JSON.stringify(command)},"rowCount":${rowCount === null ? "null" : rowCount}}`);
}

/** `parse_command_tag`: "INSERT 0 5" → 5, "UPDATE 2" → 2, "CREATE TABLE" → null. */
export function parseCommandTag(tag: string): [string, number | null] {
  const space = tag.indexOf(" ");
  if (space < 0) return [tag, null];
  const name = tag.slice(0, space);
  let rest = tag.slice(space + 1);
  if (name === "INSERT") {
    const second = rest.indexOf(" ");
    if (second < 0) return [name, null];
    rest = rest.slice(second + 1);
  }
  return [name, /^[+-]?\d+$/.test(rest) ? Number(rest) : null];
}

function rowToJson(row: (string | null)[], result: RawResult, opts: WriteOptions): string {
  const values = row.map((v, i) => {
    if (v === null) return "null";
    if (opts.rawOutput) return JSON.stringify(v);
    return pgTextToJson(v, result.fields[i]?.dataTypeID ?? 0, opts.elementTypeOf);
  });
  if (opts.arrayMode) return `[${values.join(",")}]`;
  // Object mode keeps every column, duplicates included, as the proxy's
  // streaming serializer does; JSON.parse on the client keeps the last one.
  const entries = values.map((v, i) => `${JSON.stringify(result.fields[i]?.name ?? "")}:${v}`);
  return `{${entries.join(",")}}`;
}

const OID = { bool: 16, int2: 21, int4: 23, float4: 700, float8: 701, json: 114, jsonb: 3802 } as const;

/** `pg_text_to_json`: what the proxy sends when raw text output is off. */
export function pgTextToJson(value: string, oid: number, elementTypeOf: ElementTypeOf): string {
  const element = elementTypeOf(oid);
  if (element !== undefined) return new PgArrayParser(value, element, elementTypeOf).parse();
  switch (oid) {
    case OID.bool:
      return value === "t" ? "true" : "false";
    case OID.int2:
    case OID.int4:
      return String(Number.parseInt(value, 10));
    case OID.float4:
    case OID.float8: {
      const f = Number(value);
      return Number.isFinite(f) ? String(f) : JSON.stringify(value);
    }
    case OID.json:
    case OID.jsonb:
      return value;
    default:
      return JSON.stringify(value);
  }
}

/** `pg_array_parse`: Postgres array text → nested JSON lists (delimiter ','). */
class PgArrayParser {
  #pos = 0;

  constructor(
    private readonly text: string,
    private readonly element: number,
    private readonly elementTypeOf: ElementTypeOf,
  ) {}

  parse(): string {
    // Bounds decoration such as `[1:1]={...}` has no JSON form; skip it.
    if (this.text.startsWith("[")) {
      const eq = this.text.indexOf("=");
      if (eq < 0) throw unbalanced();
      this.#pos = eq + 1;
    }
    this.#skipSpace();
    const list = this.#list();
    if (this.#pos !== this.text.length) throw unbalanced();
    return list;
  }

  #list(): string {
    if (this.text[this.#pos] !== "{") throw unbalanced();
    this.#pos++;
    const items: string[] = [];
    for (;;) {
      items.push(this.#item());
      if (this.text[this.#pos] !== ",") break;
      this.#pos++;
    }
    if (this.text[this.#pos] !== "}") throw unbalanced();
    this.#pos++;
    this.#skipSpace();
    return `[${items.join(",")}]`;
  }

  #item(): string {
    this.#skipSpace();
    const c = this.text[this.#pos];
    if (c === "{") return this.#list();
    if (c === '"') return pgTextToJson(this.#quoted(), this.element, this.elementTypeOf);
    const end = this.text.slice(this.#pos).search(/[,}]/);
    if (end < 0) throw unbalanced();
    const item = this.text.slice(this.#pos, this.#pos + end).trimEnd();
    this.#pos += end;
    return item === "NULL" ? "null" : pgTextToJson(item, this.element, this.elementTypeOf);
  }

  #quoted(): string {
    this.#pos++; // opening quote
    let out = "";
    for (;;) {
      const c = this.text[this.#pos++];
      if (c === undefined) throw new ProxyError(500, "could not parse postgres response");
      if (c === '"') break;
      if (c === "\\") {
        const escaped = this.text[this.#pos++];
        if (escaped === undefined) throw new ProxyError(500, "could not parse postgres response");
        out += escaped;
      } else out += c;
    }
    this.#skipSpace();
    return out;
  }

  #skipSpace(): void {
    while (/\s/.test(this.text[this.#pos] ?? "")) this.#pos++;
  }
}

function unbalanced(): ProxyError {
  return new ProxyError(500, "could not parse postgres response");
}
