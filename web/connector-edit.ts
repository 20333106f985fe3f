/**
 * The connector edit dialog (HTML: `connectorEditDialog` in src/routes/portal/connectors.page.ts):
 * rename, source (address, content types), schedule, agent scope and new credentials, sent as one
 * `PATCH /connectors/:id` with only what changed. Credentials are write-only: the dialog shows the
 * stored ones' hints, its fields start empty, are cleared once sent (whatever the outcome) and when
 * the dialog closes.
 * A refusal is shown on the line of the field it names (`errors[].path`, the agent for an
 * unknown agent, the credentials for the service's own refusal).
 */
import type { BrainApi, ConnectorInfo, UpdateConnectorJson } from "../src/client";
import {
  $,
  busy,
  clearFieldErrors,
  el,
  type Failure,
  fieldForm,
  fail,
  failure,
  must,
  showFieldErrors,
  showSecret,
  wireDialog,
} from "./ui";

type Call = <T>(request: () => Promise<T>) => Promise<T>;

/**
 * The values of the enabled named controls under `root`, each where its name says (`name`,
 * `settings.site_url`, `credentials.username`…): checkboxes of one name as the list of those
 * checked, an address (`data-url`) with https added when it has no scheme, a `data-number` as a
 * number (empty: null); empty credentials are left out, secrets taken as typed (never trimmed).
 */
export function connectorFields(root: ParentNode) {
  const top: Record<string, unknown> = {};
  const settings: Record<string, unknown> = {};
  const credentials: Record<string, unknown> = {};
  const groups: Record<string, Record<string, unknown>> = { settings, credentials };
  for (const control of root.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input[name], select[name]")) {
    if (control.disabled) continue;
    const [first, field] = control.name.split(".", 2) as [string, string | undefined];
    const target = field ? groups[first] : top;
    const key = field ?? first;
    if (!target) continue;
    if (control instanceof HTMLInputElement && control.type === "checkbox") {
      const list = (target[key] as string[] | undefined) ?? [];
      if (control.checked) list.push(control.value);
      target[key] = list;
      continue;
    }
    let value: unknown = control.value.trim();
    if (control.dataset.secret !== undefined) value = control.value;
    if (control.dataset.url !== undefined && value && !/^[a-z][a-z0-9+.-]*:\/\//i.test(String(value)))
      value = `https://${value}`;
    if (control.dataset.number !== undefined) value = value === "" ? null : Number(value);
    if (value === "" && target === credentials) continue;
    target[key] = value;
  }
  return { top, settings, credentials };
}

/** Whether two settings values differ (lists as sets: the order checkboxes give is not a change). */
function differs(a: unknown, b: unknown) {
  const norm = (v: unknown) => JSON.stringify(Array.isArray(v) ? [...v].sort() : (v ?? null));
  return norm(a) !== norm(b);
}

/** A schedule in words ("Manual only", "Daily", "Every 15 min"…). */
export function scheduleText(minutes: number | null) {
  if (!minutes) return "Manual only";
  if (minutes % 1440 === 0) return minutes === 1440 ? "Daily" : `Every ${minutes / 1440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? "Every hour" : `Every ${minutes / 60} hours`;
  return `Every ${minutes} min`;
}

export interface ConnectorEditorDeps {
  api: BrainApi;
  call: Call;
  /** The display label of a connector type. */
  labelOf: (type: string) => string;
  /** After a save: the list is reloaded and `id`'s row shown. */
  saved: (id: string) => Promise<void>;
  /** A 403: the caller may not change connectors; the section turns read-only and explains `f`. */
  forbidden: (f: Failure) => void;
}

export function connectorEditor({ api, call, labelOf, saved, forbidden }: ConnectorEditorDeps) {
  const dialog = $<HTMLDialogElement>("edit-connector");
  const form = $<HTMLFormElement>("edit-connector-form");
  const name = $<HTMLInputElement>("edit-name");
  const scheduleSelect = $<HTMLSelectElement>("edit-schedule");
  const agentSelect = $<HTMLSelectElement>("edit-agent");
  const submit = must(form.querySelector<HTMLButtonElement>("button[type=submit]"), "save button");
  const errorBox = must(form.querySelector<HTMLElement>(".field-error"), ".field-error");
  const groups = [...form.querySelectorAll<HTMLFieldSetElement>("fieldset[data-rotate]")];
  const sources = [...form.querySelectorAll<HTMLFieldSetElement>("fieldset[data-settings]")];
  const secrets = () => form.querySelectorAll<HTMLInputElement>("input[data-secret]");
  let editing: ConnectorInfo | null = null;
  let opener: HTMLElement | null = null;

  /** The credential group of the connector's type: the only one shown and enabled. */
  const group = () => groups.find((g) => !g.hidden);
  /** The settings group of the connector's type, likewise. */
  const source = () => sources.find((g) => !g.hidden);
  /** The settings key a `settings.…` control holds. */
  const settingOf = (input: HTMLInputElement) => input.name.slice("settings.".length);
  /** The address field of the connector's type (each type has one). */
  const addressInput = () => source()?.querySelector<HTMLInputElement>("input[data-url]") ?? null;

  /** The settings fields filled from the connector's stored settings. */
  function fillSettings(settings: Record<string, unknown>) {
    for (const input of source()?.querySelectorAll<HTMLInputElement>("input[name^='settings.']") ?? []) {
      const stored = settings[settingOf(input)];
      // A setting the connector does not hold keeps the form's default (the API's default too).
      if (stored === undefined) continue;
      if (input.type === "checkbox") input.checked = Array.isArray(stored) && stored.includes(input.value);
      else input.value = stored === null ? "" : String(stored);
    }
  }

  function clearSecrets() {
    for (const s of secrets()) {
      s.value = "";
      const toggle = form.querySelector<HTMLButtonElement>(`button.toggle[aria-controls="${s.id}"]`);
      if (toggle) showSecret(s, toggle, false);
    }
  }

  /** The schedule choices, plus the connector's own when the list lacks it (set through the API). */
  function fillSchedule(minutes: number | null) {
    for (const o of scheduleSelect.querySelectorAll("option[data-custom]")) o.remove();
    const value = minutes === null ? "" : String(minutes);
    if (![...scheduleSelect.options].some((o) => o.value === value)) {
      const custom = el("option", { value, textContent: scheduleText(minutes) });
      custom.dataset.custom = "";
      scheduleSelect.append(custom);
    }
    scheduleSelect.value = value;
  }

  /** The tenant's agents (first 100), the current scope kept even if it is not among them. */
  async function fillAgents(current: string | null) {
    const shared = must(agentSelect.querySelector("option[value='']"), "shared option");
    const option = (id: string, label = id) => el("option", { value: id, textContent: label });
    agentSelect.replaceChildren(shared, ...(current ? [option(current)] : []));
    agentSelect.value = current ?? "";
    agentSelect.setAttribute("aria-busy", "true");
    const mine = editing;
    try {
      const list = await call(() => api.agents.$get({ query: { limit: "100" } }));
      if (editing !== mine) return;
      const ids = new Set(list.items.map((a) => a.agent_id));
      if (current) ids.add(current);
      const names = new Map(list.items.map((a) => [a.agent_id, a.name]));
      const label = (id: string) => {
        const n = names.get(id);
        return n && n !== id ? `${n} (${id})` : id;
      };
      agentSelect.replaceChildren(shared, ...[...ids].sort().map((id) => option(id, label(id))));
      agentSelect.value = current ?? "";
    } catch {
      if (editing !== mine) return;
      // The select keeps the current scope; choosing another needs the list.
      $("edit-agent-error").textContent = "The agents could not be loaded; the scope can stay as it is.";
    } finally {
      agentSelect.setAttribute("aria-busy", "false");
    }
  }

  /** Opens the dialog for connector `c`, filled from it (never with credentials: hints only). */
  function open(c: ConnectorInfo, from: HTMLElement) {
    editing = c;
    opener = from;
    form.reset();
    clearFieldErrors(form);
    clearSecrets();
    $("edit-connector-title").textContent = `Edit the ${labelOf(c.type)} “${c.name}”`;
    name.value = c.name;
    fillSchedule(c.schedule_minutes);
    for (const g of [...groups, ...sources]) {
      const mine = (g.dataset.rotate ?? g.dataset.settings) === c.type;
      g.hidden = !mine;
      g.disabled = !mine;
    }
    fillSettings(c.settings);
    const hints = Object.values(c.credentials.hints);
    must(group()?.querySelector("[data-current-credentials]") ?? null, "current credentials").textContent = hints.length
      ? `Stored: ${hints.join(" · ")} (version ${c.credentials.version}). Leave these empty to keep them.`
      : "None stored: the site is read without credentials. Enter some to use them from now on.";
    busy(submit, false, "Save changes");
    dialog.returnValue = "";
    dialog.showModal();
    name.focus();
    void fillAgents(c.agent_id);
  }

  /** The PATCH body: the fields that differ from the connector, and credentials when any is typed. */
  function changes(c: ConnectorInfo): UpdateConnectorJson {
    const json: UpdateConnectorJson = {};
    const newName = name.value.trim();
    if (newName !== c.name) json.name = newName;
    const schedule = scheduleSelect.value === "" ? null : Number(scheduleSelect.value);
    if (schedule !== c.schedule_minutes) json.schedule_minutes = schedule;
    const agent = agentSelect.value || null;
    if (agent !== c.agent_id) json.agent_id = agent;
    const [settingsGroup, credentialsGroup] = [source(), group()];
    if (settingsGroup) {
      // Only the settings that changed: the API merges them over the stored ones.
      const { settings } = connectorFields(settingsGroup);
      const changed = Object.entries(settings).filter(([k, v]) => differs(v, c.settings[k]));
      if (changed.length) json.settings = Object.fromEntries(changed);
    }
    if (credentialsGroup) {
      const { credentials } = connectorFields(credentialsGroup);
      if (Object.keys(credentials).length) json.credentials = credentials as Record<string, string>;
    }
    return json;
  }

  /** What a save changed, in words, for the notice. */
  function summary(json: UpdateConnectorJson, after: ConnectorInfo) {
    const parts: string[] = [];
    if (json.name !== undefined) parts.push("renamed");
    const address = addressInput();
    for (const [key, value] of Object.entries(json.settings ?? {}))
      parts.push(
        address && key === settingOf(address)
          ? `address: ${after.settings[key]}`
          : `${key.replace(/_/g, " ")}: ${Array.isArray(value) ? value.join(", ") : String(value)}`,
      );
    if (json.schedule_minutes !== undefined) parts.push(`schedule: ${scheduleText(after.schedule_minutes)}`);
    if (json.agent_id !== undefined) parts.push(`agents: ${after.agent_id ?? "every agent"}`);
    if (json.credentials) parts.push(`new credentials checked and stored (version ${after.credentials.version})`);
    return parts.join("; ");
  }

  async function save() {
    const c = editing;
    if (!c) return;
    clearFieldErrors(form);
    const address = addressInput();
    const missing = [
      ...(name.value.trim() ? [] : [{ path: "name", message: "Enter a name." }]),
      ...(address && !address.value.trim() ? [{ path: address.name, message: "Enter the address." }] : []),
    ];
    if (missing.length) {
      showFieldErrors(form, missing);
      return;
    }
    const json = changes(c);
    // The credentials leave the page with this request (or not at all): cleared now, whatever the outcome.
    clearSecrets();
    if (Object.keys(json).length === 0) {
      errorBox.replaceChildren(
        el("div", { className: "msg err", textContent: "Nothing to save: change a field or enter new credentials." }),
      );
      return;
    }
    busy(submit, true, json.credentials ? "Checking…" : "Saving…");
    try {
      const updated = await call(() => api.connectors.update(c.id, json));
      editing = null;
      dialog.close("saved");
      // The list first, then the notice: what it says is on screen when it is announced.
      await saved(c.id);
      $("error").replaceChildren();
      $("notice").replaceChildren(
        el("div", {
          className: "msg ok",
          textContent: `Saved the connector “${updated.name}”: ${summary(json, updated)}.`,
        }),
      );
    } catch (err) {
      const f = failure(err);
      if (f.status === 401) return void dialog.close();
      if (f.status === 403) {
        dialog.close();
        return forbidden(f);
      }
      shown(f, json);
    } finally {
      busy(submit, false, "Save changes");
    }
  }

  /** A refusal, on the line of the field it concerns when one does, else under the form. */
  function shown(f: Failure, json: UpdateConnectorJson) {
    const named: Array<{ path: string; message: string }> = [...(f.errors ?? [])];
    // Refusals without `errors` that still concern one field: the agent (gone meanwhile), the service's answer.
    if (!named.length && f.code === "not_found" && json.agent_id && f.detail?.includes(json.agent_id))
      named.push({ path: "agent_id", message: f.detail });
    if (!named.length && f.code === "connector_check_failed" && json.credentials)
      named.push({ path: "credentials", message: f.detail ?? "The service refused the credentials." });
    // A new address alone: the stored credentials were checked there, so the refusal is the address's.
    const address = addressInput();
    const moved = address && json.settings?.[settingOf(address)] !== undefined;
    if (!named.length && moved && (f.code === "connector_check_failed" || f.code === "url_not_allowed"))
      named.push({ path: address.name, message: f.detail ?? "The address was refused." });
    const left = showFieldErrors(form, named);
    if (named.length && !left.length) return;
    fail(f, errorBox);
  }

  fieldForm(form, save);
  for (const toggle of form.querySelectorAll<HTMLButtonElement>("button.toggle")) {
    const input = $<HTMLInputElement>(toggle.getAttribute("aria-controls")!);
    toggle.addEventListener("click", () => showSecret(input, toggle, input.type === "password"));
  }
  wireDialog(dialog);
  dialog.addEventListener("close", () => {
    // Nothing typed stays behind a closed dialog; focus goes back where it was (a saved row is re-rendered).
    clearSecrets();
    editing = null;
    if (dialog.returnValue !== "saved" && opener?.isConnected) opener.focus();
  });

  return { open, close: () => dialog.open && dialog.close() };
}
