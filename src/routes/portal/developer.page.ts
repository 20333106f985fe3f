import { html } from "hono/html";
import { API_KEY_RATE_LIMIT_TIERS } from "../../api-keys/rate-limit";
import { PROVIDER_CATALOG, PROVIDER_IDS } from "../../llm/catalog";
import { LISTED_MODELS } from "../../llm/models";

/**
 * The BYOK page's Developer section: tenant API keys (`/api-keys`), its script is
 * web/developer.ts. The create form's controls are named by their field in
 * `POST /api-keys`, so a validation problem's `errors[].path` finds its error line.
 * The new key is shown once, in the `new-api-key` dialog, and removed from the
 * page when that dialog closes.
 */

const fieldMsg = (path: string) => html`<p class="field-msg" id="apikey-${path}-error" data-error-for="${path}"></p>`;

/** The listed models as checkboxes, by provider (providers without listed models, such as Azure's deployments, go under "Other"). */
const modelChoices = PROVIDER_IDS.filter((p) => LISTED_MODELS[p].length).map(
  (p) => html`
    <div class="choices" role="group" aria-label="${PROVIDER_CATALOG[p].displayName} models">
      ${LISTED_MODELS[p].map(
        (m) =>
          html`<label class="check"><input type="checkbox" name="allowed_models" value="${m.id}"> <code>${m.id}</code></label>`,
      )}
    </div>`,
);

export const developerSection = html`
<section class="card" aria-labelledby="developer-title">
  <h2 id="developer-title" tabindex="-1">Developer: API keys</h2>
  <p class="hint">Keys for code calling the OpenAI-compatible API (<code>/v1</code>) as <code>Authorization: Bearer bgk_…</code>. A key is shown once, when it is created; only its hint is kept.</p>
  <p class="hint readonly" id="apikeys-readonly" hidden>You can see the API keys; creating and revoking them needs the admin or owner role.</p>
  <table id="apikeys" aria-busy="false" aria-labelledby="developer-title">
    <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Allowed</th><th scope="col">Limit</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody id="apikey-rows"></tbody>
  </table>
  <button type="button" id="apikeys-more" hidden>Show more keys</button>
</section>
<section aria-labelledby="create-apikey-title">
  <h2 id="create-apikey-title">Create an API key</h2>
  <form id="apikey-form" class="card apikey" autocomplete="off" novalidate>
    <label for="apikey-name">Name</label>
    <input id="apikey-name" name="name" maxlength="100" required autocomplete="off" placeholder="CI pipeline" aria-describedby="apikey-name-error">
    ${fieldMsg("name")}
    <label for="apikey-expires">Expires on <span class="optional">(optional)</span></label>
    <input id="apikey-expires" name="expires_at" type="date" aria-describedby="apikey-expires-hint apikey-expires_at-error">
    <p class="hint" id="apikey-expires-hint">The key stops working at the start of that day (UTC). Empty: it works until revoked.</p>
    ${fieldMsg("expires_at")}
    <fieldset aria-describedby="apikey-models-hint apikey-allowed_models-error">
      <legend>Allowed models <span class="optional">(optional)</span></legend>
      ${modelChoices}
      <label for="apikey-models-other">Other models</label>
      <input id="apikey-models-other" name="allowed_models" data-list autocomplete="off" spellcheck="false" placeholder="azure-openai/my-deployment, gpt-5" aria-describedby="apikey-models-hint">
      <p class="hint" id="apikey-models-hint">Comma-separated model ids.</p>
      ${fieldMsg("allowed_models")}
    </fieldset>
    <fieldset aria-describedby="apikey-agents-hint apikey-allowed_agents-error">
      <legend>Allowed agents <span class="optional">(optional)</span></legend>
      <div class="choices" id="apikey-agents"><span class="hint">Loading agents…</span></div>
      <p class="hint" id="apikey-agents-hint">Called as the model <code>agent:&lt;agent_id&gt;</code>.</p>
      ${fieldMsg("allowed_agents")}
    </fieldset>
    <p class="hint">Nothing ticked: the key may call every model and agent of the workspace. Anything ticked: only what is ticked (agents only: no bare model).</p>
    <label for="apikey-limit">Rate limit</label>
    <select id="apikey-limit" name="rate_limit_per_minute" data-number aria-describedby="apikey-limit-hint apikey-rate_limit_per_minute-error">
      <option value="">No limit of its own</option>
      ${API_KEY_RATE_LIMIT_TIERS.map((n) => html`<option value="${String(n)}">${n} requests a minute</option>`)}
    </select>
    <p class="hint" id="apikey-limit-hint">The workspace's own limit applies as well.</p>
    ${fieldMsg("rate_limit_per_minute")}
    <div class="field-error" aria-live="assertive"></div>
    <button type="submit" class="primary">Create API key</button>
  </form>
</section>`;

/** Other isolates may accept a revoked key for the cache time (README "Per-isolate caches"): said as it is configured. */
const revokedWhen = (cacheTtlMs: number) =>
  cacheTtlMs > 0
    ? `Requests made with it are refused from now on (gateway servers that checked it in the last ${Math.ceil(cacheTtlMs / 1000)} s may accept it until then). This cannot be undone.`
    : "Requests made with it are refused from now on. This cannot be undone.";

export const developerDialogs = (o: { cacheTtlMs: number }) => html`
<dialog id="new-api-key" aria-labelledby="new-api-key-title" aria-describedby="new-api-key-warning">
  <h2 id="new-api-key-title">Your new API key</h2>
  <p class="msg warn" id="new-api-key-warning"><strong>Copy it now: you will not see it again.</strong> Only its hint is kept; if it is lost, revoke it and create another.</p>
  <label for="new-api-key-value">New API key <span id="new-api-key-name" class="optional"></span></label>
  <div class="field">
    <input id="new-api-key-value" readonly autocomplete="off" spellcheck="false" class="secret-once" data-1p-ignore data-lpignore="true">
    <button type="button" id="new-api-key-copy">Copy</button>
  </div>
  <p class="hint" id="new-api-key-copied" role="status" aria-live="polite"></p>
  <div class="actions"><button type="button" class="primary" data-close="done">I have copied it</button></div>
</dialog>
<dialog id="confirm-api-key" aria-labelledby="confirm-api-key-title" aria-describedby="confirm-api-key-text">
  <h2 id="confirm-api-key-title">Revoke this API key?</h2>
  <p id="confirm-api-key-text" class="hint">${revokedWhen(o.cacheTtlMs)}</p>
  <div class="actions"><button type="button" data-close="cancel">Cancel</button><button type="button" data-close="revoke" class="danger solid">Revoke key</button></div>
</dialog>`;
