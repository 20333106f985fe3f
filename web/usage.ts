/**
 * The Usage panel of the BYOK page (HTML: src/routes/portal/usage.page.ts): this month's usage
 * by model and by API key (`GET /usage`, costs as the API's exact decimal strings, never summed
 * here), and the monthly budgets with their spend — the tenant's, or an API key's chosen in
 * "Budget of" — set or removed by admins. The API
 * answers a member with their own calls (`scope: "user"`): the panel says so, shows no budget,
 * and the page turns read-only at once (every change it offers needs the admin role).
 */
import type { ApiKeyInfo, BrainApi, Budget, UsageReport } from "../src/client";
import {
  $,
  adminOnly,
  becomeReadOnly,
  busy,
  clearFieldErrors,
  el,
  fail,
  failure,
  fieldForm,
  messageRow,
  must,
  onReadOnly,
  refused,
  say,
  showFieldErrors,
} from "./ui";

type Call = <T>(request: () => Promise<T>) => Promise<T>;
type Group = UsageReport["groups"][number];

const COLUMNS = 4;

/** A decimal USD string as money, at least two decimals, every digit the API gave kept. */
export function money(usd: string) {
  const [whole, frac = ""] = usd.split(".");
  return `$${whole}.${frac.padEnd(2, "0")}`;
}

const count = (n: number) => n.toLocaleString("en-US");

/** A UTC day (YYYY-MM-DD) in words. */
const day = (d: string) =>
  new Date(`${d}T00:00:00Z`).toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" });

export function usageSection({ api, call }: { api: BrainApi; call: Call }) {
  const form = $<HTMLFormElement>("budget-form");
  const limit = $<HTMLInputElement>("budget-limit");
  const submit = must(form.querySelector<HTMLButtonElement>("button[type=submit]"), "set budget button");
  const remove = $<HTMLButtonElement>("budget-remove");
  const errorBox = must(form.querySelector<HTMLElement>(".field-error"), ".field-error");
  const budgetFor = $<HTMLSelectElement>("budget-for");
  /** Bumped on sign-out: answers for an earlier session are dropped. */
  let session = 0;
  /** The budgets as last read or changed, and the keys' names (the key list's first 100). */
  let budgets: Budget[] = [];
  let keyNames = new Map<string, ApiKeyInfo>();

  onReadOnly(() => {
    form.hidden = true;
    $("budget-for-row").hidden = true;
  });

  /** The API key the budget card is about; null: the whole workspace. */
  const chosenKey = () => budgetFor.value || null;
  /** A key's name and hint (the key list's first 100 keys; others by id). */
  const keyName = (id: string) => {
    const k = keyNames.get(id);
    return k ? `${k.name} (${k.key_hint})` : id;
  };
  const budgetOf = (keyId: string | null) =>
    budgets.find((b) => (keyId === null ? b.scope === "tenant" : b.scope === "api_key" && b.api_key_id === keyId));
  /** Keeps `budgets` as the API answered a change (one budget set, or removed). */
  function remember(keyId: string | null, b: Budget | undefined) {
    budgets = budgets.filter((x) => x !== budgetOf(keyId));
    if (b) budgets.push(b);
  }

  /** "Budget of": the workspace, then every key still usable and every key with a budget. */
  function fillBudgetFor() {
    const previous = budgetFor.value;
    const ids = new Set([...keyNames.values()].filter((k) => k.status === "active").map((k) => k.id));
    for (const b of budgets) if (b.api_key_id) ids.add(b.api_key_id);
    budgetFor.replaceChildren(
      el("option", { value: "", textContent: "the whole workspace" }),
      ...[...ids].map((id) =>
        el("option", { value: id, textContent: `API key ${keyName(id)}${budgetOf(id) ? " · budget set" : ""}` }),
      ),
    );
    budgetFor.value = ids.has(previous) ? previous : "";
    $("budget-for-row").hidden = false;
  }

  function rows(tableId: string, report: UsageReport, label: (key: string | null) => string) {
    const tbody = must($(tableId).querySelector("tbody"), `#${tableId} tbody`);
    const line = (g: Group) => {
      const tr = el(
        "tr",
        {},
        el("td", { textContent: label(g.key) }),
        el("td", { className: "num", textContent: count(g.requests) }),
        el("td", { className: "num", textContent: `${count(g.prompt_tokens)} / ${count(g.completion_tokens)}` }),
        el("td", { className: "num", textContent: money(g.cost_usd) }),
      );
      tr.dataset.key = g.key ?? "";
      return tr;
    };
    tbody.replaceChildren(
      ...(report.groups.length ? report.groups.map(line) : [messageRow(COLUMNS, "empty", "No calls yet this month.")]),
    );
    if (report.truncated)
      tbody.append(messageRow(COLUMNS, "hint", "The 1,000 biggest are listed; the totals cover every call."));
  }

  function totals(r: UsageReport) {
    const t = r.totals;
    const item = (name: string, value: string) =>
      el("div", {}, el("dt", { textContent: name }), el("dd", { textContent: value }));
    $("usage-totals").replaceChildren(
      item("Requests", `${count(t.requests)}${t.failed_requests ? ` (${count(t.failed_requests)} failed)` : ""}`),
      item("Tokens", count(t.total_tokens)),
      item("Cost", money(t.cost_usd)),
      ...(t.unpriced_requests ? [item("Calls without a price", count(t.unpriced_requests))] : []),
    );
    $("usage-range").textContent =
      `${day(r.from)} – ${day(r.to)} (UTC days). Prices as of ${day(r.prices_as_of)}; a call keeps the cost of its day.`;
  }

  /** A key group's label: the key's name and hint, or the calls made signed in. */
  const keyLabel = (id: string | null) => (id === null ? "Signed-in users (no API key)" : keyName(id));

  /** Shows the budget of the key chosen in "Budget of" (or the workspace's). */
  function renderBudget() {
    const keyId = chosenKey();
    const b = budgetOf(keyId);
    const state = $("budget-state");
    const meter = $<HTMLMeterElement>("budget-meter");
    form.hidden = false;
    clearFieldErrors(form);
    remove.hidden = !b;
    submit.textContent = b ? "Update budget" : "Set budget";
    if (!b) {
      state.replaceChildren(
        keyId === null
          ? "No monthly budget: provider calls are not limited by spend."
          : "No monthly budget for this key: its calls are limited only by the workspace's budget, if any.",
      );
      meter.hidden = true;
      limit.value = "";
      return;
    }
    const month = day(`${b.month}-01`).replace(/ \d+,/, "");
    state.replaceChildren(
      `${money(b.spent_usd)} of ${money(b.monthly_limit_usd)} spent${keyId === null ? "" : " with this key"} in ${month} (UTC) · ${money(b.remaining_usd)} left.`,
    );
    if (b.exceeded)
      state.append(
        " ",
        el("span", { className: "pill status failed", textContent: "Exceeded: provider calls are refused" }),
      );
    const max = Number(b.monthly_limit_usd);
    meter.value = max > 0 ? Math.min(1, Number(b.spent_usd) / max) : 1;
    meter.hidden = false;
    limit.value = money(b.monthly_limit_usd).slice(1);
  }

  async function loadBudget(mine: number) {
    try {
      const list = await call(() => api.usage.budgets());
      if (mine !== session) return;
      budgets = list.budgets;
      fillBudgetFor();
      renderBudget();
    } catch (err) {
      if (mine !== session) return;
      $("budget-state").textContent = "The budget could not be loaded.";
      const f = failure(err);
      if (f.status === 403) becomeReadOnly();
      else if (f.status !== 401) fail(f, $("usage-error"));
    }
  }

  async function load() {
    const mine = session;
    for (const id of ["usage-by-model", "usage-by-key"]) $(id).setAttribute("aria-busy", "true");
    try {
      const [byModel, byKey, keys] = await Promise.all([
        call(() => api.usage.report({ group_by: "model" })),
        call(() => api.usage.report({ group_by: "api_key" })),
        // Names for the key groups; without them a group shows its key's id.
        call(() => api.apiKeys.list({ limit: 100 })).catch(() => ({ items: [] as ApiKeyInfo[] })),
      ]);
      if (mine !== session) return;
      totals(byModel);
      rows("usage-by-model", byModel, (model) => model ?? "—");
      keyNames = new Map(keys.items.map((k) => [k.id, k]));
      rows("usage-by-key", byKey, keyLabel);
      if (byModel.scope === "user") {
        // A member: the API showed their own calls. Budgets and every change on the page are the admins'.
        $("usage-scope").hidden = false;
        $("budget-state").textContent = "The workspace's budget is shown to admins.";
        becomeReadOnly();
        return;
      }
      await loadBudget(mine);
    } catch (err) {
      if (mine !== session) return;
      $("usage-range").textContent = "Usage could not be loaded.";
      const f = failure(err);
      // Shown in the panel: a failed report is not a failed action of the page.
      if (f.status !== 401) fail(f, $("usage-error"));
    } finally {
      for (const id of ["usage-by-model", "usage-by-key"]) $(id).setAttribute("aria-busy", "false");
    }
  }

  async function setBudget() {
    clearFieldErrors(form);
    const value = limit.value.trim().replace(/^\$/, "");
    if (!value)
      return void showFieldErrors(form, [
        { path: "monthly_limit_usd", message: "Enter an amount in USD, such as 250.00." },
      ]);
    busy(submit, true, "Saving…");
    const keyId = chosenKey();
    try {
      const b = await call(() =>
        keyId === null ? api.usage.setTenantBudget(value) : api.usage.setApiKeyBudget(keyId, value),
      );
      remember(keyId, b);
      if (keyId !== null) fillBudgetFor();
      renderBudget();
      say(
        `Set the monthly budget${keyId === null ? "" : ` of API key ${keyName(keyId)}`} to ${money(b.monthly_limit_usd)}.`,
      );
    } catch (err) {
      refused(form, err, "set the budget");
    } finally {
      busy(submit, false, remove.hidden ? "Set budget" : "Update budget");
    }
  }

  async function removeBudget() {
    clearFieldErrors(form);
    busy(remove, true, "Removing…");
    const keyId = chosenKey();
    try {
      await call(() => (keyId === null ? api.usage.removeTenantBudget() : api.usage.removeApiKeyBudget(keyId)));
      remember(keyId, undefined);
      if (keyId !== null) fillBudgetFor();
      renderBudget();
      say(
        keyId === null
          ? "Removed the monthly budget: provider calls are no longer limited by spend."
          : `Removed the monthly budget of API key ${keyName(keyId)}.`,
      );
      submit.focus();
    } catch (err) {
      const f = failure(err);
      if (f.status === 404) {
        remember(keyId, undefined);
        renderBudget();
      } else if (f.status === 403) fail(adminOnly(f, "remove the budget"));
      else if (f.status !== 401) fail(f, errorBox);
    } finally {
      busy(remove, false, "Remove budget");
    }
  }

  function reset() {
    session++;
    $("usage-scope").hidden = true;
    $("usage-error").replaceChildren();
    $("usage-totals").replaceChildren();
    $("usage-range").textContent = "Loading usage…";
    $("budget-state").textContent = "Loading the budget…";
    $("budget-meter").hidden = true;
    $("budget-for-row").hidden = true;
    budgets = [];
    keyNames = new Map();
    form.hidden = true;
    for (const id of ["usage-by-model", "usage-by-key"])
      must($(id).querySelector("tbody"), "tbody").replaceChildren(messageRow(COLUMNS, "loading", "Loading…"));
  }

  fieldForm(form, setBudget);
  budgetFor.addEventListener("change", () => renderBudget());
  remove.addEventListener("click", () => void removeBudget());

  return { load, reset };
}
