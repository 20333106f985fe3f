import type { TestProject } from "vitest/node";
import { startLocalStack } from "../local-stack/stack";

declare module "vitest" {
  export interface ProvidedContext {
    stackVars: Record<string, string>;
  }
}

/** Starts the in-memory local stack once for the Worker tests and hands its settings to the Worker's bindings. */
export default async function setup(project: TestProject) {
  const stack = await startLocalStack({ persist: false });
  project.provide("stackVars", stack.vars);
  return async () => {
    await stack.close();
  };
}
