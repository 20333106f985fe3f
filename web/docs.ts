/**
 * The API reference page (/docs, web/public/docs.html): Swagger UI, served from
 * the Worker's own static assets, rendering the generated /openapi.json. It
 * fetches nothing from any other origin, so it works offline.
 */

/** The part of Swagger UI's global (swagger-ui-bundle.js, loaded before this module) used here. */
declare const SwaggerUIBundle: ((options: {
  url: string;
  dom_id: string;
  presets: unknown[];
  layout: string;
  deepLinking: boolean;
  validatorUrl: null;
}) => unknown) & { presets: { apis: unknown } };

SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#api-reference",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  // Otherwise Swagger UI asks validator.swagger.io for a badge.
  validatorUrl: null,
});
