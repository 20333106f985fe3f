import { createRouter } from "../../lib/openapi";

/**
 * The API reference page: Scalar's viewer reading our generated /openapi.json.
 * The viewer script loads from its CDN in the browser, so it costs the Worker no bundle size.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Brain Gateway API reference</title></head>
<body>
<script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1"></script>
</body>
</html>`;

export const docsRouter = createRouter().get("/docs", (c) => {
  // The reference page needs the CDN script; secure headers otherwise forbid nothing here.
  return c.html(PAGE);
});
