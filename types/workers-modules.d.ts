// The Node and browser type-checks (tsconfig.node.json, web/tsconfig.json) reach the Worker's
// entry through the typed client and src/worker-configuration.d.ts (`import("./index")` for the
// Workflow binding's params), but run without @cloudflare/workers-types, whose globals clash with
// Node's and the DOM's. These are the runtime modules that entry imports, as far as those checks
// need them; the Worker's own check (tsconfig.json) uses the real declarations.
declare module "cloudflare:workers" {
  export abstract class WorkflowEntrypoint<Env = unknown, T = unknown> {
    protected ctx: { waitUntil(p: Promise<unknown>): void };
    protected env: Env;
    run(event: Readonly<WorkflowEvent<T>>, step: WorkflowStep): Promise<unknown>;
  }
  export type WorkflowEvent<T> = { payload: Readonly<T>; timestamp: Date; instanceId: string };
  export type WorkflowStepConfig = Record<string, unknown>;
  export interface WorkflowStep {
    do<T>(name: string, config: WorkflowStepConfig, fn: () => Promise<T>): Promise<T>;
    sleep(name: string, duration: number | string): Promise<void>;
  }
}
declare module "cloudflare:workflows" {
  export class NonRetryableError extends Error {
    constructor(message: string, name?: string);
  }
}
