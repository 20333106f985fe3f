/**
 * The Connectors section of the BYOK page (HTML: src/routes/portal/connectors.page.ts):
 * the tenant's connectors with their status and last run, a form per
 * connector type, "Sync now" (202, then the run is polled until it ends) and
 * delete with the choice the API offers for the synced documents. Members
 * see the list; a 403 on a change turns the section read-only and says why.
 * Credential fields are sent once and cleared; the API returns hints only.
 */
import type { BrainApi, ConnectorInfo, ConnectorRun, CreateConnectorJson } from "../src/client";
import { connectorEditor, connectorFields, scheduleText } from "./connector-edit";
import {
  $,
  adminOnly,
  busy,
  confirmed,
  el,
  type Failure,
  fail,
  failure,
  messageRow,
  must,
  onReadOnly,
  say,
  showSecret,
  when,
  wireDialog,
} from "./ui";

const COLUMNS = 6;
/** How often a running sync is polled, and the longest wait between polls after failures. */
const POLL_MS = 1000;
const POLL_MAX_MS = 8000;

type Call = <T>(request: () => Promise<T>) => Promise<T>;
type RunStatus = ConnectorRun["status"];
const ACTIVE: ReadonlySet<RunStatus> = new Set(["queued", "running"]);

const STATUS_TEXT: Record<RunStatus | "never", string> = {
  never: "Never synced",
  queued: "Queued",
  running: "Syncing…",
  succeeded: "Synced",
  failed: "Failed",
};

/** The counts of a run, in the order the API lists them. */
function countsText(run: ConnectorRun) {
  const c = run.counts;
  return `${c.seen} seen · ${c.added} added · ${c.updated} updated · ${c.unchanged} unchanged · ${c.removed} removed · ${c.failed} failed`;
}

function seconds(ms: number) {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function connectorsSection({ api, call }: { api: BrainApi; call: Call }) {
  const forms = [...document.querySelectorAll<HTMLFormElement>("form.connector")];
  /** Per type, from its form: the display label and the settings field holding the site's address. */
  const types = new Map(
    forms.map((f) => [f.dataset.connectorType!, { label: f.dataset.label!, urlField: f.dataset.urlField! }]),
  );
  let connectors = new Map<string, ConnectorInfo>();
  let loaded = false;
  let readOnly = false;
  /** Bumped on sign-out: polls of an earlier session stop. */
  let session = 0;
  const polls = new Map<string, ReturnType<typeof setTimeout>>();

  const labelOf = (type: string) => types.get(type)?.label ?? type;
  const siteOf = (c: ConnectorInfo) => String(c.settings[types.get(c.type)?.urlField ?? ""] ?? "");

  /** A 403 (here or in another section): this caller may look, not change. The section says so and offers no changes. */
  function turnReadOnly() {
    readOnly = true;
    $("connectors-readonly").hidden = false;
    for (const f of forms)
      must(f.querySelector<HTMLButtonElement>("button[type=submit]"), "submit button").disabled = true;
    // Rows not loaded yet keep their "Loading…" line; they are drawn read-only when they come.
    if (loaded) renderRows();
  }

  const editor = connectorEditor({
    api,
    call,
    labelOf,
    saved: async (id) => {
      await load();
      document.querySelector<HTMLElement>(`tr[data-connector-id="${CSS.escape(id)}"] button.edit`)?.focus();
    },
    forbidden: (f) => fail(adminOnly(f, "edit connectors")),
  });

  onReadOnly(turnReadOnly);

  async function load() {
    const table = $("connectors");
    const tbody = $("connector-rows");
    const mine = session;
    table.setAttribute("aria-busy", "true");
    if (!loaded) tbody.replaceChildren(messageRow(COLUMNS, "loading", "Loading connectors…"));
    try {
      const list = await call(() => api.connectors.list());
      if (mine !== session) return;
      connectors = new Map(list.items.map((c) => [c.id, c]));
      loaded = true;
      renderRows();
      // Runs already under way (started elsewhere or by the schedule) are followed too.
      for (const c of connectors.values())
        if (c.last_run && ACTIVE.has(c.last_run.status)) follow(c.id, c.last_run.run_id, false);
    } catch (err) {
      if (mine !== session) return;
      tbody.replaceChildren(messageRow(COLUMNS, "empty", "Connectors could not be loaded."));
      const f = failure(err);
      if (f.status !== 401) fail(f);
    } finally {
      table.setAttribute("aria-busy", "false");
    }
  }

  function reset() {
    session++;
    editor.close();
    for (const t of polls.values()) clearTimeout(t);
    polls.clear();
    connectors = new Map();
    loaded = false;
    // The next token may be an admin's.
    readOnly = false;
    $("connectors-readonly").hidden = true;
    for (const f of forms)
      must(f.querySelector<HTMLButtonElement>("button[type=submit]"), "submit button").disabled = false;
  }

  function statusCell(c: ConnectorInfo) {
    const run = c.last_run;
    const state = run ? run.status : "never";
    const pill = el("span", { className: `pill status ${state}`, textContent: STATUS_TEXT[state] });
    return el(
      "td",
      { className: "status-cell" },
      pill,
      el("div", { className: "hint", textContent: scheduleText(c.schedule_minutes) }),
      el("div", { className: "hint", textContent: c.agent_id ? `Agent: ${c.agent_id}` : "All agents" }),
    );
  }

  function runCell(c: ConnectorInfo) {
    const run = c.last_run;
    if (!run) return el("td", { className: "hint", textContent: "—" });
    const cell = el("td", { className: "run" });
    const started = run.started_at ?? run.created_at;
    if (ACTIVE.has(run.status)) {
      cell.append(el("div", {}, run.status === "queued" ? "Queued " : "Started ", when(started)));
      return cell;
    }
    const line = el("div", {}, when(run.finished_at ?? started));
    if (run.duration_ms !== null) line.append(` · ${seconds(run.duration_ms)}`);
    cell.append(line, el("div", { className: "counts", textContent: countsText(run) }));
    if (run.error) {
      cell.append(
        el(
          "div",
          { className: "run-error" },
          el("strong", { textContent: run.error.message }),
          el("span", { className: "meta", textContent: `Step: ${run.error.step} · Code: ${run.error.code}` }),
        ),
      );
    }
    return cell;
  }

  function row(c: ConnectorInfo) {
    const logo = el("span", { className: `logo ${c.type}`, textContent: labelOf(c.type).slice(0, 1) });
    logo.setAttribute("aria-hidden", "true");
    const hints = Object.entries(c.credentials.hints);
    const sync = el("button", { type: "button", className: "sync", textContent: "Sync now" });
    sync.setAttribute("aria-label", `Sync ${c.name} now`);
    sync.disabled = readOnly || (!!c.last_run && ACTIVE.has(c.last_run.status));
    sync.addEventListener("click", () => void syncNow(c.id, sync));
    const edit = el("button", { type: "button", className: "edit", textContent: "Edit" });
    edit.setAttribute("aria-label", `Edit connector ${c.name}`);
    edit.disabled = readOnly;
    edit.addEventListener("click", () => editor.open(c, edit));
    const del = el("button", { type: "button", className: "danger", textContent: "Delete" });
    del.setAttribute("aria-label", `Delete connector ${c.name}`);
    del.disabled = readOnly;
    del.addEventListener("click", () => void confirmDelete(c.id, del));
    const tr = el(
      "tr",
      {},
      el(
        "td",
        {},
        el(
          "span",
          { className: "svc" },
          logo,
          el(
            "span",
            {},
            el("span", { className: "name", textContent: c.name }),
            el("small", { textContent: labelOf(c.type) }),
          ),
        ),
      ),
      el(
        "td",
        { className: "source" },
        el("code", { textContent: siteOf(c) }),
        el("div", {
          className: "hint",
          textContent: hints.length ? hints.map(([, v]) => v).join(" · ") : "Anonymous (public content)",
        }),
      ),
      statusCell(c),
      runCell(c),
      el("td", { className: "num", textContent: String(c.documents) }),
      el("td", { className: "actions" }, sync, edit, del),
    );
    tr.dataset.connectorId = c.id;
    tr.dataset.status = c.last_run?.status ?? "never";
    return tr;
  }

  function renderRows() {
    const rows = [...connectors.values()].sort((a, b) => a.created_at.localeCompare(b.created_at)).map(row);
    $("connector-rows").replaceChildren(
      ...(rows.length ? rows : [messageRow(COLUMNS, "empty", "No connectors yet. Add a site or shop below.")]),
    );
  }

  function renderRow(id: string) {
    const c = connectors.get(id);
    const old = document.querySelector(`tr[data-connector-id="${CSS.escape(id)}"]`);
    if (!c || !old) return;
    // Focus stays on the same button of the new row (keyboard users keep their place).
    const focused = old.contains(document.activeElement) ? (document.activeElement as HTMLElement).className : null;
    const fresh = row(c);
    old.replaceWith(fresh);
    if (focused !== null) fresh.querySelector<HTMLElement>(`button[class="${CSS.escape(focused)}"]`)?.focus();
  }

  /** Polls run `runId` until it ends; `announce` says the outcome (for runs this page started). */
  function follow(id: string, runId: string, announce: boolean) {
    if (polls.has(id)) return;
    const mine = session;
    const tick = async (delay: number) => {
      let next = POLL_MS;
      try {
        const run = await call(() => api.connectors.run(id, runId));
        if (mine !== session) return;
        const c = connectors.get(id);
        if (!c) return void polls.delete(id);
        const before = c.last_run;
        connectors.set(id, { ...c, last_run: run });
        // Re-rendered only when the run moved on: a row replaced every second would lose the focus in it.
        if (before?.run_id !== run.run_id || before.status !== run.status) renderRow(id);
        if (!ACTIVE.has(run.status)) {
          polls.delete(id);
          if (announce) finished(c.name, run);
          await load();
          return;
        }
      } catch (err) {
        if (mine !== session) return;
        const f = failure(err);
        // Signed out, or the connector (and its runs) deleted meanwhile: stop following.
        if (f.status === 401 || f.status === 404) return void polls.delete(id);
        next = Math.min(delay * 2, POLL_MAX_MS);
      }
      polls.set(
        id,
        setTimeout(() => void tick(next), next),
      );
    };
    polls.set(
      id,
      setTimeout(() => void tick(POLL_MS), POLL_MS),
    );
  }

  function finished(name: string, run: ConnectorRun) {
    if (run.status === "succeeded") return say(`Synced “${name}”: ${countsText(run)}.`);
    fail({
      status: 0,
      code: run.error?.code ?? "sync_failed",
      detail: `The sync of “${name}” failed${run.error ? ` at step “${run.error.step}”: ${run.error.message}` : "."}`,
    });
  }

  async function syncNow(id: string, button: HTMLButtonElement) {
    const c = connectors.get(id);
    if (!c) return;
    busy(button, true, "Starting…");
    try {
      const started = await call(() => api.connectors.sync(id));
      say(`Started a sync of “${c.name}”.`);
      connectors.set(id, {
        ...c,
        last_run: {
          run_id: started.run_id,
          connector_id: id,
          trigger: "manual",
          status: "queued",
          counts: { seen: 0, added: 0, updated: 0, unchanged: 0, removed: 0, failed: 0, embedding_calls: 0 },
          error: null,
          created_at: new Date().toISOString(),
          started_at: null,
          finished_at: null,
          duration_ms: null,
        },
      });
      renderRow(id);
      follow(id, started.run_id, true);
    } catch (err) {
      const f = failure(err);
      if (f.status === 401) return;
      fail(adminOnly(f, "sync connectors"));
      busy(button, false, "Sync now");
      // 409: a run is already under way; the list shows and follows it.
      if (f.status === 409) await load();
    }
  }

  async function confirmDelete(id: string, opener: HTMLButtonElement) {
    const c = connectors.get(id);
    if (!c) return;
    const dialog = $<HTMLDialogElement>("confirm-connector");
    $("confirm-connector-title").textContent = `Delete the connector “${c.name}”?`;
    $("confirm-connector-docs").textContent =
      c.documents === 1 ? "The 1 document it synced" : `The ${c.documents} documents it synced`;
    must(dialog.querySelector<HTMLInputElement>("input[name=knowledge][value=remove]"), "remove choice").checked = true;
    if (!(await confirmed(dialog, opener, "delete"))) return;
    const keep =
      must(dialog.querySelector<HTMLInputElement>("input[name=knowledge]:checked"), "choice").value === "keep";
    busy(opener, true, "Deleting…");
    try {
      const r = await call(() => api.connectors.delete(id, { knowledge: keep ? "keep" : "remove" }));
      const docs = r.documents === 1 ? "1 document" : `${r.documents} documents`;
      say(
        `Deleted the connector “${c.name}”; ${r.knowledge === "kept" ? `kept ${docs} as ordinary knowledge` : `removed ${docs}`}.`,
      );
      clearTimeout(polls.get(id));
      polls.delete(id);
      await load();
      $("connectors-title").focus();
    } catch (err) {
      const f = failure(err);
      if (f.status !== 401) fail(adminOnly(f, "delete connectors"));
      busy(opener, false, "Delete");
    }
  }

  /** The create body from the form: each enabled named control goes where its name says. */
  function bodyOf(form: HTMLFormElement): CreateConnectorJson {
    const { top, settings, credentials } = connectorFields(form);
    const type = form.dataset.connectorType!;
    const site = String(settings[types.get(type)!.urlField] ?? "");
    let name = String(top.name ?? "");
    if (!name) {
      try {
        name = new URL(site).host;
      } catch {
        name = labelOf(type);
      }
    }
    return { ...top, type, name, settings, credentials } as CreateConnectorJson;
  }

  /** Marks the controls a validation problem names (`errors[].path` = the control's name). */
  function markInvalid(form: HTMLFormElement, f: Failure) {
    let first: HTMLElement | null = null;
    for (const e of f.errors ?? []) {
      for (const control of form.querySelectorAll<HTMLInputElement>("input[name]")) {
        if (control.name === e.path || control.name.startsWith(`${e.path}.`)) {
          control.setAttribute("aria-invalid", "true");
          first ??= control;
        }
      }
    }
    first?.focus();
  }

  async function create(form: HTMLFormElement) {
    const button = must(form.querySelector<HTMLButtonElement>("button[type=submit]"), "submit button");
    const errorBox = must(form.querySelector<HTMLElement>(".field-error"), ".field-error");
    const label = button.textContent ?? "Connect";
    const type = form.dataset.connectorType!;
    errorBox.replaceChildren();
    for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
    const url = must(form.querySelector<HTMLInputElement>("input[data-url]"), "address field");
    if (!url.value.trim()) {
      url.setAttribute("aria-invalid", "true");
      errorBox.replaceChildren(el("div", { className: "msg err", textContent: "Enter the address." }));
      url.focus();
      return;
    }
    const json = bodyOf(form);
    // The credentials leave the page with this request: their fields are cleared now, whatever the outcome.
    for (const s of form.querySelectorAll<HTMLInputElement>("input[data-secret]")) {
      s.value = "";
      const toggle = form.querySelector<HTMLButtonElement>(`button.toggle[aria-controls="${s.id}"]`);
      if (toggle) showSecret(s, toggle, false);
    }
    busy(button, true, "Checking…");
    try {
      const c = await call(() => api.connectors.create(json));
      say(`Connected the ${labelOf(type)} “${c.name}”. Sync now to bring its content in.`);
      form.reset();
      toggleAnonymous(form);
      await load();
    } catch (err) {
      const f = failure(err);
      if (f.status === 401) return;
      if (f.status === 403) fail(adminOnly(f, "add connectors"));
      else {
        markInvalid(form, f);
        fail(f, errorBox);
      }
    } finally {
      button.disabled = readOnly;
      button.setAttribute("aria-busy", "false");
      button.textContent = label;
    }
  }

  /** "Public site": the credential fields are disabled (not sent) and hidden. */
  function toggleAnonymous(form: HTMLFormElement) {
    const box = form.querySelector<HTMLInputElement>("input[data-anonymous]");
    const group = form.querySelector<HTMLElement>("[data-credentials]");
    if (!box || !group) return;
    group.hidden = box.checked;
    for (const i of group.querySelectorAll<HTMLInputElement | HTMLButtonElement>("input, button"))
      i.disabled = box.checked;
  }

  for (const form of forms) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void create(form);
    });
    form.addEventListener("input", (e) => {
      (e.target as Element).removeAttribute("aria-invalid");
      if ((e.target as HTMLInputElement).dataset.anonymous !== undefined) toggleAnonymous(form);
    });
    for (const toggle of form.querySelectorAll<HTMLButtonElement>("button.toggle")) {
      const input = $<HTMLInputElement>(toggle.getAttribute("aria-controls")!);
      toggle.addEventListener("click", () => showSecret(input, toggle, input.type === "password"));
    }
  }

  wireDialog($<HTMLDialogElement>("confirm-connector"));

  return { load, reset };
}
