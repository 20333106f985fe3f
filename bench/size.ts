/**
 * The Worker's size exactly as `wrangler deploy --dry-run --minify` reports it,
 * and where the bytes go: the same build's esbuild metafile grouped by package.
 * The built bundle is also what the latency benches run, so they time the deploy artifact.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface SizeReport {
  totalKiB: number;
  gzipKiB: number;
  /** The verbatim line wrangler printed. */
  line: string;
  /** The minified bundle wrangler built (index.js), for Miniflare. */
  bundlePath: string;
  /** Bytes of minified output per package, largest first. */
  packages: Array<{ name: string; bytes: number }>;
  outputBytes: number;
  wranglerVersion: string;
}

interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

/** node_modules/@scope/pkg/... → @scope/pkg; src/... → the gateway's own code. */
export function packageOf(input: string): string {
  const i = input.lastIndexOf("node_modules/");
  if (i === -1) return input.startsWith("src/") ? "(gateway src/)" : `(other: ${input.split("/")[0]})`;
  const parts = input.slice(i + "node_modules/".length).split("/");
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

export async function measureSize(root: string): Promise<SizeReport> {
  const outdir = mkdtempSync(join(tmpdir(), "bench-size-"));
  const metafile = join(outdir, "meta.json");
  const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", CI: "1" };
  // process.execPath: the Node running the bench (22 via npm scripts), which wrangler requires.
  const { stdout, stderr } = await run(
    process.execPath,
    [wrangler, "deploy", "--dry-run", "--outdir", outdir, "--minify", "--metafile", metafile],
    { cwd: root, env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
  );
  const text = `${stdout}\n${stderr}`;
  const match = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(text);
  if (!match) throw new Error(`wrangler printed no "Total Upload" line:\n${text}`);
  const version = /wrangler (\d+\.\d+\.\d+)/.exec(text)?.[1] ?? "?";

  const meta = JSON.parse(readFileSync(metafile, "utf8")) as Metafile;
  const [, output] = Object.entries(meta.outputs).find(([path]) => path.endsWith("index.js")) ?? [];
  if (!output) throw new Error("metafile has no index.js output");
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const packages = [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
  return {
    totalKiB: Number(match[1]),
    gzipKiB: Number(match[2]),
    line: match[0],
    bundlePath: join(outdir, "index.js"),
    packages,
    outputBytes: output.bytes,
    wranglerVersion: version,
  };
}
