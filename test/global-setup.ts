import type { TestProject } from "vitest/node";
import { startLocalStack } from "../local-stack/stack";
import { startJwksServer } from "./jwks-server";

/** Starts the in-memory local stack once for the Worker tests and hands its settings to the Worker's bindings. */
export default async function setup(project: TestProject) {
  const stack = await startLocalStack({ persist: false });
  const jwks = await startJwksServer();
  project.provide("stackVars", stack.vars);
  project.provide("jwks", { url: jwks.url, privateKeys: jwks.privateKeys });
  return async () => {
    await jwks.close();
    await stack.close();
  };
}
