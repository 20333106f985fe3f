/**
 * CLI: run the LLM provider stand-in for local development.
 *   tsx local-stack/llm-provider/main.ts [--port 8787] [--host 127.0.0.1] [--token-delay-ms 5] [--first-token-ms 0]
 */
import { parseArgs } from "node:util";
import { startLlmProvider } from "./server";

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    console.error(`--${name} must be a non-negative integer, got "${value}"`);
    process.exit(2);
  }
  return parsed;
}

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    "token-delay-ms": { type: "string" },
    "first-token-ms": { type: "string" },
  },
});

const standIn = await startLlmProvider({
  port: intOption("port", values.port),
  host: values.host,
  tokenDelayMs: intOption("token-delay-ms", values["token-delay-ms"]),
  firstTokenMs: intOption("first-token-ms", values["first-token-ms"]),
});

console.log(`LLM provider stand-in listening on ${standIn.url}`);
console.log(`  OPENAI base URL:    ${standIn.openaiBaseUrl}`);
console.log(`  ANTHROPIC base URL: ${standIn.anthropicBaseUrl}`);
console.log(`  Azure OpenAI endpoint: ${standIn.azureEndpoint}`);
console.log(`  recorded calls:     ${standIn.url}/__standin/calls`);

let closing = false;
const shutdown = (signal: string): void => {
  if (closing) return;
  closing = true;
  console.log(`${signal} received, closing`);
  standIn.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error("close failed", error);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
