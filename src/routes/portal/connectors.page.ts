import { html } from "hono/html";
import { CONNECTOR_TYPE_NAMES, CONNECTOR_TYPES, type ConnectorTypeName } from "../../connectors/registry";
import { SCHEDULE_MINUTES } from "../connectors/connectors.schemas";

/**
 * The BYOK page's Connectors section (its script is web/connectors.ts). Each
 * form's controls are named by where their value goes in `POST /connectors`
 * (`name`, `settings.site_url`, `credentials.access_token`…), so the script
 * builds the body without knowing the type; credential fields carry
 * `data-secret` (cleared once sent, never filled in).
 */

/** Sync schedules offered (minutes; "" = manual only), within the API's SCHEDULE_MINUTES. */
const SCHEDULES: Array<[string, string]> = [
  ["", "Manual only (Sync now)"],
  ["60", "Every hour"],
  ["360", "Every 6 hours"],
  ["1440", "Daily"],
];
for (const [m] of SCHEDULES)
  if (m && (Number(m) < SCHEDULE_MINUTES.min || Number(m) > SCHEDULE_MINUTES.max))
    throw new Error(`schedule ${m} is outside the API's range`);

/** Where a field's own error is shown (the edit form's; the script fills it from `errors[].path`). */
const fieldMsg = (id: string, path: string) =>
  html`<p class="field-msg" id="${id}-error" data-error-for="${path}"></p>`;

/** The schedule choice; `errors` (the edit form) adds its own error line. */
const schedule = (id: string, errors = false) => html`
  <label for="${id}-schedule">Sync schedule</label>
  <select id="${id}-schedule" name="schedule_minutes" data-number${errors ? html` aria-describedby="${id}-schedule-error"` : ""}>
    ${SCHEDULES.map(([v, label]) => html`<option value="${v}">${label}</option>`)}
  </select>${errors ? fieldMsg(`${id}-schedule`, "schedule_minutes") : ""}`;

const nameField = (id: string, placeholder: string) => html`
  <label for="${id}-name">Name</label>
  <input id="${id}-name" name="name" maxlength="100" autocomplete="off" placeholder="${placeholder}" aria-describedby="${id}-name-hint">
  <p class="hint" id="${id}-name-hint">Optional; the address is used if empty.</p>`;

/** A write-only credential field with its Show/Hide button; `errors` adds its own error line. */
const secret = (id: string, name: string, label: string, hint: string, placeholder = "", errors = false) => html`
  <label for="${id}">${label}</label>
  <div class="field">
    <input id="${id}" name="${name}" type="password" data-secret autocomplete="off" spellcheck="false" autocapitalize="off" placeholder="${placeholder}" aria-describedby="${id}-hint${errors ? ` ${id}-error` : ""}" data-1p-ignore data-lpignore="true">
    <button type="button" class="toggle" aria-controls="${id}" aria-pressed="false">Show</button>
  </div>
  <p class="hint" id="${id}-hint">${hint}</p>${errors ? fieldMsg(id, name) : ""}`;

/** A credential field's label; the edit form's say they replace what is stored. */
const credentialLabel = (text: string, rotate: boolean) => (rotate ? `New ${text.toLowerCase()}` : text);

/**
 * Each type's credential fields, in the add form and in the edit dialog (`rotate`: ids prefixed
 * `edit-`, labels "New …", each with its error line). A type added to the registry needs one.
 */
const CREDENTIALS: Record<ConnectorTypeName, (rotate: boolean) => ReturnType<typeof html>> = {
  wordpress: (rotate) => {
    const id = rotate ? "edit-wp" : "wp";
    return html`
    <label for="${id}-user">${credentialLabel("Username", rotate)}</label>
    <input id="${id}-user" name="credentials.username" autocomplete="off" spellcheck="false" autocapitalize="off" maxlength="60"${rotate ? html` aria-describedby="${id}-user-error"` : ""}>
    ${rotate ? fieldMsg(`${id}-user`, "credentials.username") : ""}
    ${secret(`${id}-password`, "credentials.application_password", credentialLabel("Application password", rotate), "Users → Profile → Application Passwords in WordPress. Stored in the secret store, never shown again.", "xxxx xxxx xxxx xxxx xxxx xxxx", rotate)}`;
  },
  shopify: (rotate) =>
    secret(
      rotate ? "edit-shop-token" : "shop-token",
      "credentials.access_token",
      credentialLabel("Admin API access token", rotate),
      "An Admin API token with read_products (shpat_…). Stored in the secret store, never shown again.",
      "shpat_…",
      rotate,
    ),
};

const footer = (label: string) => html`
  <div class="field-error" aria-live="assertive"></div>
  <button type="submit" class="primary">Connect ${label}</button>`;

/** The address field (`data-url`: https is added when left out); `edit` adds its error line. */
const address = (id: string, name: string, label: string, placeholder: string, hint: string, edit: boolean) => html`
  <label for="${id}">${label}</label>
  <input id="${id}" name="${name}" type="url" data-url required autocomplete="off" spellcheck="false" placeholder="${placeholder}" aria-describedby="${id}-hint${edit ? ` ${id}-error` : ""}">
  <p class="hint" id="${id}-hint">${hint}${edit ? " Changing it checks the stored credentials there first." : ""}</p>${edit ? fieldMsg(id, name) : ""}`;

/**
 * Each type's settings fields (where its content comes from), in the add form and in the edit
 * dialog (`edit`: ids prefixed `edit-`, each with its error line). A type added to the registry needs one.
 */
const SETTINGS: Record<ConnectorTypeName, (edit: boolean) => ReturnType<typeof html>> = {
  wordpress: (edit) => {
    const id = edit ? "edit-wp" : "wp";
    return html`
  ${address(`${id}-site`, "settings.site_url", "Site URL", "https://blog.example.com", "The site's address: https on a public host.", edit)}
  <fieldset${edit ? html` aria-describedby="${id}-content-error"` : ""}>
    <legend>Content</legend>
    <label class="check"><input type="checkbox" name="settings.content_types" value="posts" checked> Posts</label>
    <label class="check"><input type="checkbox" name="settings.content_types" value="pages" checked> Pages</label>
  </fieldset>${edit ? fieldMsg(`${id}-content`, "settings.content_types") : ""}`;
  },
  shopify: (edit) =>
    address(
      edit ? "edit-shop-url" : "shop-url",
      "settings.shop_url",
      "Shop address",
      "acme.myshopify.com",
      "The shop's myshopify.com domain; https is added if you leave it out.",
      edit,
    ),
};

/** The add form of each connector type (a type added to the registry needs one). */
const FORMS: Record<ConnectorTypeName, () => ReturnType<typeof html>> = {
  wordpress: () => html`
  <h3><span class="logo wordpress" aria-hidden="true">W</span>WordPress site</h3>
  ${nameField("wp", "Company blog")}
  ${SETTINGS.wordpress(false)}
  <label class="check"><input type="checkbox" data-anonymous aria-controls="wp-credentials"> Public site: read without credentials</label>
  <div id="wp-credentials" class="group" data-credentials>
    ${CREDENTIALS.wordpress(false)}
  </div>
  ${schedule("wp")}
  ${footer("WordPress")}`,
  shopify: () => html`
  <h3><span class="logo shopify" aria-hidden="true">S</span>Shopify shop</h3>
  ${nameField("shop", "Online store")}
  ${SETTINGS.shopify(false)}
  ${CREDENTIALS.shopify(false)}
  ${schedule("shop")}
  ${footer("Shopify")}`,
};

const form = (type: ConnectorTypeName) => {
  const { label, urlField } = CONNECTOR_TYPES[type];
  return html`
<form class="card connector" data-connector-type="${type}" data-label="${label}" data-url-field="${urlField}" autocomplete="off" novalidate>
  ${FORMS[type]()}
</form>`;
};

export const connectorsSection = html`
<section class="card" aria-labelledby="connectors-title">
  <h2 id="connectors-title" tabindex="-1">Connectors</h2>
  <p class="hint">Sites and shops whose content is synced into the knowledge base, so agents answer from it.</p>
  <p class="hint readonly" id="connectors-readonly" hidden>You can see the connectors; adding, editing, syncing and deleting them needs the admin or owner role.</p>
  <table id="connectors" aria-busy="false" aria-labelledby="connectors-title">
    <thead><tr><th scope="col">Connector</th><th scope="col">Source</th><th scope="col">Status</th><th scope="col">Last run</th><th scope="col">Documents</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody id="connector-rows"></tbody>
  </table>
</section>
<section aria-labelledby="add-connector-title">
  <h2 id="add-connector-title">Add a connector</h2>
  <div class="grid">
    ${CONNECTOR_TYPE_NAMES.map(form)}
  </div>
</section>`;

export const connectorDialog = html`
<dialog id="confirm-connector" aria-labelledby="confirm-connector-title" aria-describedby="confirm-connector-text">
  <h2 id="confirm-connector-title">Delete this connector?</h2>
  <p id="confirm-connector-text" class="hint">Its schedule and any running sync stop, and its credentials are deleted.</p>
  <fieldset>
    <legend id="confirm-connector-docs">The documents it synced</legend>
    <label class="check"><input type="radio" name="knowledge" value="remove" checked> Remove them from the knowledge base</label>
    <label class="check"><input type="radio" name="knowledge" value="keep"> Keep them as ordinary documents, no longer updated</label>
  </fieldset>
  <div class="actions"><button type="button" data-close="cancel">Cancel</button><button type="button" data-close="delete" class="danger solid">Delete connector</button></div>
</dialog>`;

/**
 * Edit a connector (`PATCH /connectors/:id`): name, where its content comes from (address, content
 * types), schedule, agent scope, and new credentials (write-only: the current ones show as hints;
 * empty fields keep them). Only the settings and credential groups of the connector's type are
 * shown and sent. Each field has its own error line.
 */
export const connectorEditDialog = html`
<dialog id="edit-connector" aria-labelledby="edit-connector-title">
  <form id="edit-connector-form" class="edit" autocomplete="off" novalidate>
    <h2 id="edit-connector-title" data-type-title>Edit connector</h2>
    <label for="edit-name">Name</label>
    <input id="edit-name" name="name" maxlength="100" required autocomplete="off" aria-describedby="edit-name-error">
    ${fieldMsg("edit-name", "name")}
    ${CONNECTOR_TYPE_NAMES.map(
      (type) => html`
    <fieldset class="settings" data-settings="${type}" hidden>
      <legend>Source</legend>
      ${SETTINGS[type](true)}
    </fieldset>`,
    )}
    ${schedule("edit", true)}
    <label for="edit-agent">Agent scope</label>
    <select id="edit-agent" name="agent_id" aria-describedby="edit-agent-hint edit-agent-error">
      <option value="">Every agent (shared)</option>
    </select>
    <p class="hint" id="edit-agent-hint">Which agents answer from the synced documents.</p>
    ${fieldMsg("edit-agent", "agent_id")}
    ${CONNECTOR_TYPE_NAMES.map(
      (type) => html`
    <fieldset class="rotate" data-rotate="${type}" aria-describedby="edit-${type}-current edit-${type}-credentials-error" hidden>
      <legend>Rotate credentials</legend>
      <p class="hint" id="edit-${type}-current" data-current-credentials></p>
      ${CREDENTIALS[type](true)}
      ${fieldMsg(`edit-${type}-credentials`, "credentials")}
    </fieldset>`,
    )}
    <div class="field-error" aria-live="assertive"></div>
    <div class="actions"><button type="button" data-close="cancel">Cancel</button><button type="submit" class="primary">Save changes</button></div>
  </form>
</dialog>`;
