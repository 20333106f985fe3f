import { html } from "hono/html";
import {
  type CredentialField,
  PROVIDER_CATALOG,
  PROVIDER_IDS,
  type ProviderId,
  type ProviderInfo,
} from "../../llm/catalog";
import { connectorDialog, connectorEditDialog, connectorsSection } from "./connectors.page";
import { developerDialogs, developerSection } from "./developer.page";
import { usageSection } from "./usage.page";

/**
 * The BYOK page's HTML. Its script (web/byok.ts) and stylesheet (web/byok.css)
 * are static assets under /assets; the tags loading them carry the response's
 * CSP nonce (see portal.index.ts). Hono's `html` escapes every interpolated value.
 */

/** Where the page's own script and stylesheet are served (scripts/build-assets.ts builds them). */
export const BYOK_ASSETS = { script: "/assets/byok.js", style: "/assets/byok.css" } as const;

/** Where an admin creates each provider's key, under its form (a provider added to the catalog needs a line). */
const WHERE_TO_CREATE: Record<ProviderId, string> = {
  openai: "Create one at platform.openai.com.",
  anthropic: "Create one in the Anthropic Console.",
  "azure-openai": "Key 1 or 2 and the endpoint are under Keys and Endpoint of your Azure OpenAI resource.",
};

/** The credential's fields besides the key (Azure OpenAI), shown before it; stored values fill them in. */
function fieldInputs(service: ProviderId, fields: readonly CredentialField[]) {
  return fields.map(
    (f) => html`
  <label for="${f.name}-${service}">${f.label}</label>
  <input id="${f.name}-${service}" name="${f.name}" data-field autocomplete="off" spellcheck="false" autocapitalize="off" required placeholder="${f.example}">`,
  );
}

/** The optional date the provider key stops working: the list warns in its last days and use is refused after it. */
function expiryInput(form: string) {
  return html`
  <label for="exp-${form}">Expires on <span class="optional">(optional)</span></label>
  <input id="exp-${form}" name="expires_at" type="date" aria-describedby="exp-hint-${form}">
  <p class="hint" id="exp-hint-${form}">If your provider key has an end date. The key is checked with the provider when you save it.</p>`;
}

/** One form per provider of the catalog: its name, its fields, and its key shape's example as placeholder and hint. */
function keyForm(service: ProviderId) {
  const info: ProviderInfo = PROVIDER_CATALOG[service];
  const { displayName: title, keyShape } = info;
  const placeholder = keyShape.example;
  const shape = placeholder.endsWith("…") ? `Starts with ${placeholder.slice(0, -1)}.` : `${placeholder}.`;
  const hint = `${shape} ${WHERE_TO_CREATE[service]}`;
  return html`
<form class="card key" data-service="${service}" autocomplete="off" novalidate>
  <h3><span class="logo ${service}" aria-hidden="true">${title.slice(0, 2)}</span>${title}</h3>
  ${fieldInputs(service, info.fields ?? [])}
  <label for="key-${service}">${title} API key</label>
  <div class="field">
    <input id="key-${service}" name="api_key" type="password" autocomplete="off" spellcheck="false" autocapitalize="off" required minlength="8" maxlength="512" placeholder="${placeholder}" aria-describedby="hint-${service} cur-${service}" data-1p-ignore data-lpignore="true">
    <button type="button" class="toggle" aria-controls="key-${service}" aria-pressed="false">Show</button>
  </div>
  <p class="hint" id="hint-${service}">${hint}</p>
  <p class="hint" id="cur-${service}" data-current>No key stored yet.</p>
  ${expiryInput(service)}
  <div class="field-error" aria-live="assertive"></div>
  <button type="submit" class="primary">Save key</button>
</form>`;
}

const otherForm = html`
<form class="card key" autocomplete="off" novalidate>
  <h3><span class="logo" aria-hidden="true">+</span>Another provider</h3>
  <label for="svc-other">Service</label>
  <input id="svc-other" name="service" autocomplete="off" spellcheck="false" autocapitalize="off" required pattern="[a-z0-9][a-z0-9_-]{0,63}" placeholder="groq, mistral, cohere…" aria-describedby="hint-other">
  <label for="key-other">API key</label>
  <div class="field">
    <input id="key-other" name="api_key" type="password" autocomplete="off" spellcheck="false" autocapitalize="off" required minlength="8" maxlength="512" data-1p-ignore data-lpignore="true">
    <button type="button" class="toggle" aria-controls="key-other" aria-pressed="false">Show</button>
  </div>
  <p class="hint" id="hint-other">Lowercase service name. Saving a stored service again rotates its key.</p>
  ${expiryInput("other")}
  <div class="field-error" aria-live="assertive"></div>
  <button type="submit" class="primary">Save key</button>
</form>`;

/** The page, with the nonce that its CSP allows and the settings the script reads. */
export function byokPage(opts: { nonce: string; devLogin: boolean; portalOrigins: string[]; cacheTtlMs: number }) {
  const { nonce } = opts;
  const names = PROVIDER_IDS.map((id) => PROVIDER_CATALOG[id].displayName).join(", ");
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Provider keys · Brain</title>
<link nonce="${nonce}" rel="stylesheet" href="${BYOK_ASSETS.style}">
<script nonce="${nonce}" type="module" src="${BYOK_ASSETS.script}"></script>
</head>
<body data-dev-login="${String(opts.devLogin)}" data-portal-origins="${opts.portalOrigins.join(" ")}">
<header class="top">
  <span class="mark" aria-hidden="true"></span>
  <span class="brand">Brain<small>Workspace settings</small></span>
  <div class="session" id="session" hidden><span id="who"></span><button type="button" id="signout">Sign out</button></div>
</header>
<main>
  <section id="signin" class="card signin" hidden aria-labelledby="signin-title">
    <h1 id="signin-title">Provider keys</h1>
    <p>Open this page from the Brain portal to manage your workspace's LLM provider keys.</p>
    <div id="signin-error" aria-live="assertive"></div>
    <button type="button" class="primary" id="dev-signin" hidden>Sign in as dev admin</button>
  </section>
  <div id="app" hidden>
    <h1>Provider keys</h1>
    <p class="lead">Bring your own ${names} or other provider keys. Keys are stored encrypted in the secret store and are never shown again; only the last four characters are kept as a hint.</p>
    <div id="notice" role="status" aria-live="polite"></div>
    <div id="error" role="alert" aria-live="assertive"></div>
    <section class="card" aria-labelledby="keys-title">
      <h2 id="keys-title" tabindex="-1">Stored keys</h2>
      <table id="keys" aria-busy="false" aria-labelledby="keys-title">
        <thead><tr><th scope="col">Service</th><th scope="col">Key</th><th scope="col">Version</th><th scope="col">Provider check</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody id="rows"></tbody>
      </table>
    </section>
    <section aria-labelledby="add-title">
      <h2 id="add-title">Add or rotate a key</h2>
      <div class="grid">
        ${PROVIDER_IDS.map(keyForm)}
        ${otherForm}
      </div>
    </section>
    ${connectorsSection}
    ${developerSection}
    ${usageSection}
  </div>
</main>
<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
  <h2 id="confirm-title">Delete this key?</h2>
  <p id="confirm-text" class="hint">Every version is removed. Agents using this provider stop working until a new key is saved.</p>
  <div class="actions"><button type="button" data-close="cancel">Cancel</button><button type="button" data-close="delete" class="danger solid">Delete key</button></div>
</dialog>
${connectorDialog}
${connectorEditDialog}
${developerDialogs({ cacheTtlMs: opts.cacheTtlMs })}
</body>
</html>`;
}
