/**
 * The Developer section of the BYOK page (HTML: src/routes/portal/developer.page.ts): the
 * tenant's API keys (hint, allowances, limit, last use, expiry, status), a create form, and
 * revoke after a confirmation. The one secret the page ever shows is a new key: it lives in
 * the `new-api-key` dialog's read-only field until that dialog closes, then is removed from
 * the page and forgotten (it is never stored, logged or put in a notice). Members see the
 * list; a create or revoke refused with 403 turns the page read-only and says why.
 */
import type { ApiKeyInfo, BrainApi, CreateApiKeyJson } from "../src/client";
import {
  $,
  adminOnly,
  busy,
  clearFieldErrors,
  confirmed,
  el,
  fieldForm,
  fail,
  failure,
  messageRow,
  must,
  onReadOnly,
  refused,
  say,
  showFieldErrors,
  when,
  wireDialog,
} from "./ui";

type Call = <T>(request: () => Promise<T>) => Promise<T>;

const COLUMNS = 8;
const PAGE = 50;

const STATUS: Record<ApiKeyInfo["status"], { label: string; style: string }> = {
  active: { label: "Active", style: "succeeded" },
  expired: { label: "Expired", style: "failed" },
  revoked: { label: "Revoked", style: "never" },
};

/** What a key may call, in words. */
function allowedText(k: ApiKeyInfo) {
  const parts = [...(k.allowed_models ?? []), ...(k.allowed_agents ?? []).map((a) => `agent:${a}`)];
  return parts.length ? parts.join(", ") : "Every model and agent";
}

export function developerSection({ api, call }: { api: BrainApi; call: Call }) {
  const form = $<HTMLFormElement>("apikey-form");
  const submit = must(form.querySelector<HTMLButtonElement>("button[type=submit]"), "create button");
  const more = $<HTMLButtonElement>("apikeys-more");
  const reveal = $<HTMLDialogElement>("new-api-key");
  const revealed = $<HTMLInputElement>("new-api-key-value");
  let keys: ApiKeyInfo[] = [];
  let next: string | null = null;
  let loaded = false;
  let readOnly = false;
  /** Bumped on sign-out: answers for an earlier session are dropped. */
  let session = 0;

  function turnReadOnly() {
    readOnly = true;
    $("apikeys-readonly").hidden = false;
    submit.disabled = true;
    // Rows not loaded yet keep their "Loading…" line; they are drawn read-only when they come.
    if (loaded) renderRows();
  }
  onReadOnly(turnReadOnly);

  /** The first page again (`more`: the next page, appended). */
  async function load(o: { more?: boolean } = {}) {
    const table = $("apikeys");
    const mine = session;
    table.setAttribute("aria-busy", "true");
    if (!loaded) $("apikey-rows").replaceChildren(messageRow(COLUMNS, "loading", "Loading API keys…"));
    try {
      const page = await call(() => api.apiKeys.list({ limit: PAGE, ...(o.more && next ? { cursor: next } : {}) }));
      if (mine !== session) return;
      keys = o.more ? [...keys, ...page.items] : page.items;
      next = page.next_cursor;
      loaded = true;
      renderRows();
    } catch (err) {
      if (mine !== session) return;
      $("apikey-rows").replaceChildren(messageRow(COLUMNS, "empty", "API keys could not be loaded."));
      const f = failure(err);
      if (f.status !== 401) fail(f);
    } finally {
      table.setAttribute("aria-busy", "false");
    }
  }

  /** The tenant's agents as choices for a new key. */
  async function loadAgents() {
    const box = $("apikey-agents");
    const mine = session;
    try {
      const list = await call(() => api.agents.$get({ query: { limit: "100" } }));
      if (mine !== session) return;
      box.replaceChildren(
        ...(list.items.length
          ? list.items.map((a) =>
              el(
                "label",
                { className: "check" },
                el("input", { type: "checkbox", name: "allowed_agents", value: a.agent_id }),
                ` ${a.name !== a.agent_id ? `${a.name} ` : ""}`,
                el("code", { textContent: a.agent_id }),
              ),
            )
          : [el("span", { className: "hint", textContent: "No agents yet." })]),
      );
    } catch {
      if (mine !== session) return;
      box.replaceChildren(el("span", { className: "hint", textContent: "Agents could not be loaded." }));
    }
  }

  function row(k: ApiKeyInfo) {
    const status = STATUS[k.status];
    const statusCell = el(
      "td",
      { className: "status-cell" },
      el("span", { className: `pill status ${status.style}`, textContent: status.label }),
    );
    if (k.revoked_at) statusCell.append(el("div", { className: "hint" }, when(k.revoked_at)));
    const revoke = el("button", { type: "button", className: "danger revoke", textContent: "Revoke" });
    revoke.setAttribute("aria-label", `Revoke API key ${k.name}`);
    revoke.disabled = readOnly || k.status === "revoked";
    revoke.addEventListener("click", () => void confirmRevoke(k, revoke));
    const tr = el(
      "tr",
      {},
      el(
        "td",
        {},
        el("span", { className: "name", textContent: k.name }),
        el("div", { className: "hint" }, "Created ", when(k.created_at)),
      ),
      el("td", {}, el("code", { textContent: k.key_hint })),
      el("td", { className: "allowed", textContent: allowedText(k) }),
      el("td", { className: "num", textContent: k.rate_limit_per_minute ? `${k.rate_limit_per_minute}/min` : "—" }),
      el("td", {}, k.last_used_at ? when(k.last_used_at) : "Never"),
      el("td", {}, k.expires_at ? when(k.expires_at) : "Never"),
      statusCell,
      el("td", { className: "actions" }, revoke),
    );
    tr.dataset.apiKeyId = k.id;
    tr.dataset.status = k.status;
    return tr;
  }

  function renderRows() {
    $("apikey-rows").replaceChildren(
      ...(keys.length ? keys.map(row) : [messageRow(COLUMNS, "empty", "No API keys yet. Create one below.")]),
    );
    more.hidden = !next;
  }

  /** The create body from the form: the ticked models and agents, "Other models" split on commas. */
  function bodyOf(): CreateApiKeyJson {
    const data = new FormData(form);
    const models = data
      .getAll("allowed_models")
      .flatMap((v) => String(v).split(","))
      .map((m) => m.trim())
      .filter(Boolean);
    const agents = data.getAll("allowed_agents").map(String);
    const expires = String(data.get("expires_at") ?? "");
    const limit = String(data.get("rate_limit_per_minute") ?? "");
    return {
      name: String(data.get("name") ?? "").trim(),
      // A date: the key stops working at its start (UTC), as the hint says.
      ...(expires ? { expires_at: `${expires}T00:00:00Z` } : {}),
      ...(models.length ? { allowed_models: models } : {}),
      ...(agents.length ? { allowed_agents: agents } : {}),
      ...(limit ? { rate_limit_per_minute: Number(limit) } : {}),
    };
  }

  async function create() {
    clearFieldErrors(form);
    const json = bodyOf();
    if (!json.name) return void showFieldErrors(form, [{ path: "name", message: "Enter a name." }]);
    busy(submit, true, "Creating…");
    try {
      const created = await call(() => api.apiKeys.create(json));
      form.reset();
      show(created.key, created.name, created.key_hint);
      await load();
    } catch (err) {
      refused(form, err, "create API keys");
    } finally {
      submit.disabled = readOnly;
      submit.setAttribute("aria-busy", "false");
      submit.textContent = "Create API key";
    }
  }

  /** Shows a new key, once: in the dialog's field until the dialog closes. */
  function show(key: string, name: string, hint: string) {
    revealed.value = key;
    $("new-api-key-name").textContent = `“${name}”`;
    $("new-api-key-copied").textContent = "";
    reveal.dataset.hint = hint;
    reveal.dataset.name = name;
    reveal.showModal();
    revealed.focus();
    revealed.select();
  }

  async function copy() {
    const status = $("new-api-key-copied");
    try {
      await navigator.clipboard.writeText(revealed.value);
      status.textContent = "Copied to the clipboard.";
    } catch {
      // No clipboard access (permissions, an insecure frame): the key is selected for Ctrl+C.
      revealed.focus();
      revealed.select();
      status.textContent = "Copying was not allowed here: the key is selected, press Ctrl+C (⌘C).";
    }
  }

  async function confirmRevoke(k: ApiKeyInfo, opener: HTMLButtonElement) {
    $("confirm-api-key-title").textContent = `Revoke the API key “${k.name}” (${k.key_hint})?`;
    if (!(await confirmed($<HTMLDialogElement>("confirm-api-key"), opener, "revoke"))) return;
    busy(opener, true, "Revoking…");
    try {
      await call(() => api.apiKeys.revoke(k.id));
      say(`Revoked the API key “${k.name}” (${k.key_hint}). Requests made with it are refused.`);
      await load();
      $("developer-title").focus();
    } catch (err) {
      const f = failure(err);
      if (f.status !== 401) fail(adminOnly(f, "revoke API keys"));
      busy(opener, false, "Revoke");
      opener.disabled = readOnly;
    }
  }

  function reset() {
    session++;
    keys = [];
    next = null;
    loaded = false;
    readOnly = false;
    $("apikeys-readonly").hidden = true;
    submit.disabled = false;
    delete reveal.dataset.name;
    if (reveal.open) reveal.close();
    clearFieldErrors(form);
  }

  fieldForm(form, create);
  more.addEventListener("click", () => void load({ more: true }));
  $("new-api-key-copy").addEventListener("click", () => void copy());
  wireDialog(reveal);
  reveal.addEventListener("close", () => {
    // The key leaves the page with the dialog: only its hint stays (in the list).
    revealed.value = "";
    const { name, hint } = reveal.dataset;
    delete reveal.dataset.name;
    if (name === undefined) return;
    say(`Created the API key “${name}” (${hint}). Only its hint is kept.`);
    $("developer-title").focus();
  });
  wireDialog($<HTMLDialogElement>("confirm-api-key"));

  return {
    load: async () => {
      await Promise.all([load(), loadAgents()]);
    },
    reset,
  };
}
