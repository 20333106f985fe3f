// Node's HTTP parser (llhttp) only knows a fixed set of methods and rejects
// Vault's `LIST` verb with 400 before any handler runs. Real clients
// (node-vault, the Vault CLI, hvac) send LIST, so the stand-in must accept it:
// this wrapper sits between the TCP socket and Node's HTTP server, follows
// HTTP/1.1 message framing, and rewrites a LIST request line to GET plus an
// `X-Standin-Method: LIST` header that server.ts turns back into LIST.
import type { Socket } from "node:net";
import { Duplex } from "node:stream";

/** Header carrying the original method; stripped from client input so it cannot be forged. */
export const ORIGINAL_METHOD_HEADER = "x-standin-method";

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

type State =
  | { kind: "head" }
  | { kind: "body"; remaining: number }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; remaining: number }
  | { kind: "trailer" }
  | { kind: "passthrough" };

/** Wrap a raw socket so Node's HTTP server can parse LIST requests. */
export function wrapSocket(socket: Socket): Duplex {
  let state: State = { kind: "head" };
  let pending: Buffer = Buffer.alloc(0);

  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });

  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    pending = frame(pending, out);
    if (out.length > 0 && !duplex.push(Buffer.concat(out))) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("error", (err) => duplex.destroy(err));
  socket.on("close", () => duplex.destroy());

  // Node's HTTP server calls these on its socket when they exist.
  Object.assign(duplex, {
    setTimeout: (ms: number, cb?: () => void) => socket.setTimeout(ms, cb),
    setNoDelay: (v?: boolean) => socket.setNoDelay(v),
    setKeepAlive: (e?: boolean, d?: number) => socket.setKeepAlive(e, d),
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
  });
  return duplex;

  /** Consume what can be framed from `buf`, push output, return the unconsumed rest. */
  function frame(buf: Buffer, out: Buffer[]): Buffer {
    for (;;) {
      switch (state.kind) {
        case "passthrough":
          if (buf.length > 0) out.push(buf);
          return Buffer.alloc(0);
        case "head": {
          const end = buf.indexOf(HEAD_END);
          if (end === -1) {
            if (buf.length > MAX_HEAD_BYTES) state = { kind: "passthrough" };
            else return buf;
            continue;
          }
          const head = buf.subarray(0, end + HEAD_END.length).toString("latin1");
          buf = buf.subarray(end + HEAD_END.length);
          out.push(Buffer.from(rewriteHead(head), "latin1"));
          state = bodyStateFor(head);
          continue;
        }
        case "body": {
          if (state.remaining === 0) {
            state = { kind: "head" };
            continue;
          }
          if (buf.length === 0) return buf;
          const n = Math.min(state.remaining, buf.length);
          out.push(buf.subarray(0, n));
          buf = buf.subarray(n);
          state = { kind: "body", remaining: state.remaining - n };
          continue;
        }
        case "chunk-size": {
          const eol = buf.indexOf(CRLF);
          if (eol === -1) return buf;
          const line = buf.subarray(0, eol).toString("latin1");
          out.push(buf.subarray(0, eol + 2));
          buf = buf.subarray(eol + 2);
          const size = Number.parseInt(line.split(";")[0]?.trim() ?? "", 16);
          if (!Number.isFinite(size)) state = { kind: "passthrough" };
          else state = size === 0 ? { kind: "trailer" } : { kind: "chunk-data", remaining: size + 2 };
          continue;
        }
        case "chunk-data": {
          if (buf.length === 0) return buf;
          const n = Math.min(state.remaining, buf.length);
          out.push(buf.subarray(0, n));
          buf = buf.subarray(n);
          state =
            state.remaining - n === 0 ? { kind: "chunk-size" } : { kind: "chunk-data", remaining: state.remaining - n };
          continue;
        }
        case "trailer": {
          const eol = buf.indexOf(CRLF);
          if (eol === -1) return buf;
          out.push(buf.subarray(0, eol + 2));
          buf = buf.subarray(eol + 2);
          if (eol === 0) state = { kind: "head" };
          continue;
        }
      }
    }
  }
}

/** LIST → GET + marker header; any client-sent marker header is dropped. */
function rewriteHead(head: string): string {
  const lines = head.split("\r\n");
  // Tolerate empty lines before the request line (RFC 9112 §2.2).
  let first = 0;
  while (first < lines.length && lines[first] === "") first++;
  const requestLine = lines[first] ?? "";
  const kept = lines.filter((l, i) => i <= first || !l.toLowerCase().startsWith(`${ORIGINAL_METHOD_HEADER}:`));
  if (requestLine.startsWith("LIST ")) {
    kept[first] = `GET ${requestLine.slice("LIST ".length)}`;
    kept.splice(first + 1, 0, `X-Standin-Method: LIST`);
  }
  return kept.join("\r\n");
}

function bodyStateFor(head: string): State {
  const lower = head.toLowerCase();
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) return { kind: "chunk-size" };
  if (
    /\r\nupgrade:/.test(lower) &&
    /^[a-z]+ [^\r]* http\/1\.1\r\n/.test(lower) &&
    /\r\nconnection:[^\r]*upgrade/.test(lower)
  ) {
    return { kind: "passthrough" };
  }
  const m = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  return { kind: "body", remaining: m ? Number.parseInt(m[1] ?? "0", 10) : 0 };
}
