import { createRouter } from "../../lib/openapi";

/** Placeholder: filled in by its issue. */
export const portalRouter = createRouter();
