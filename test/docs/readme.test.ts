import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { SETTINGS, type SettingName } from "../../src/config";

const readme = readFileSync("README.md", "utf8");
const wranglerToml = readFileSync("wrangler.toml", "utf8");

/** The rows of the table under `## <heading>`, as trimmed cells. */
function table(heading: string): string[][] {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split("\n## ")[0] ?? "";
  return section
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .slice(2) // header and separator
    .map((l) =>
      l
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim()),
    );
}

/** What a setting is when unset, as the README writes it: `—` when it has no default. */
function documentedDefault(name: SettingName): string {
  const unset = (SETTINGS[name] as z.ZodType).safeParse(undefined);
  if (!unset.success || unset.data === undefined) return "—";
  if (Array.isArray(unset.data)) return unset.data.length ? unset.data.join(",") : "—";
  return String(unset.data);
}

const isSecret = (name: SettingName) => z.globalRegistry.get(SETTINGS[name])?.secret === true;

describe('README "Settings" is the settings schema (src/config.ts SETTINGS)', () => {
  const rows = table("Settings").map(([name, secret, def]) => ({
    name: name!.replaceAll("`", ""),
    secret: secret!,
    // `— (none)` reads better in prose; it means no default.
    def: def!.replaceAll("`", "").replace(/^—.*/, "—"),
  }));
  const settingRows = rows.filter((r) => r.secret !== "binding");

  it("has one row per setting, in the schema's order", () => {
    expect(settingRows.map((r) => r.name)).toEqual(Object.keys(SETTINGS));
  });

  it("marks exactly the secrets as secret", () => {
    for (const r of settingRows) {
      expect(r.secret, r.name).toBe(isSecret(r.name as SettingName) ? "**yes**" : "");
    }
  });

  it("gives each setting the default the schema applies when it is unset", () => {
    for (const r of settingRows) expect(r.def, r.name).toBe(documentedDefault(r.name as SettingName));
  });

  it("lists bindings that wrangler.toml declares", () => {
    for (const r of rows.filter((r) => r.secret === "binding")) {
      // `name =` for [[ratelimits]], `binding =` for [[queues.producers]] and [[workflows]].
      expect(wranglerToml, r.name).toMatch(new RegExp(`^(name|binding) = "${r.name}"$`, "m"));
    }
  });

  it("wrangler.toml [vars] sets only settings that are not secrets, to their defaults", () => {
    const vars = wranglerToml.split("\n[vars]\n")[1]!.split("\n[")[0]!;
    const entries = [...vars.matchAll(/^([A-Z_]+) = "(.*)"$/gm)].map(([, name, value]) => [name!, value!] as const);
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, value] of entries) {
      expect(Object.keys(SETTINGS), name).toContain(name);
      expect(isSecret(name as SettingName), name).toBe(false);
      expect(value, name).toBe(documentedDefault(name as SettingName));
    }
  });
});
