/**
 * The Usage panel of the BYOK page (HTML: src/routes/portal/usage.page.ts): this month's usage
 * by model and by API key (`GET /usage`, costs as the API's exact decimal strings, never summed
 * here), and the tenant's monthly budget with its spend, set or removed by admins. The API
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
  /** Bumped on sign-out: answers for an earlier session are dropped. */
  let session = 0;

  onReadOnly(() => {
    form.hidden = true;
  });

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

  /** A key's name and hint for its group (the list's first 100 keys; others by id). */
  function keyLabel(keys: Map<string, ApiKeyInfo>) {
    return (id: string | null) => {
      if (id === null) return "Signed-in users (no API key)";
      const k = keys.get(id);
      return k ? `${k.name} (${k.key_hint})` : id;
    };
  }

  function renderBudget(b: Budget | undefined) {
    const state = $("budget-state");
    const meter = $<HTMLMeterElement>("budget-meter");
    form.hidden = false;
    clearFieldErrors(form);
    remove.hidden = !b;
    submit.textContent = b ? "Update budget" : "Set budget";
    if (!b) {
      state.replaceChildren("No monthly budget: provider calls are not limited by spend.");
      meter.hidden = true;
      limit.value = "";
      return;
    }
    const month = day(`${b.month}-01`).replace(/ \d+,/, "");
    state.replaceChildren(
      `${money(b.spent_usd)} of ${money(b.monthly_limit_usd)} spent in ${month} (UTC) · ${money(b.remaining_usd)} left.`,
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
      renderBudget(list.budgets.find((b) => b.scope === "tenant"));
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
      rows("usage-by-key", byKey, keyLabel(new Map(keys.items.map((k) => [k.id, k]))));
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
    try {
      const b = await call(() => api.usage.setTenantBudget(value));
      renderBudget(b);
      say(`Set the monthly budget to ${money(b.monthly_limit_usd)}.`);
    } catch (err) {
      refused(form, err, "set the budget");
    } finally {
      busy(submit, false, remove.hidden ? "Set budget" : "Update budget");
    }
  }

  async function removeBudget() {
    clearFieldErrors(form);
    busy(remove, true, "Removing…");
    try {
      await call(() => api.usage.removeTenantBudget());
      renderBudget(undefined);
      say("Removed the monthly budget: provider calls are no longer limited by spend.");
      submit.focus();
    } catch (err) {
      const f = failure(err);
      if (f.status === 404) renderBudget(undefined);
      else if (f.status === 403) fail(adminOnly(f, "remove the budget"));
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
    form.hidden = true;
    for (const id of ["usage-by-model", "usage-by-key"])
      must($(id).querySelector("tbody"), "tbody").replaceChildren(messageRow(COLUMNS, "loading", "Loading…"));
  }

  fieldForm(form, setBudget);
  remove.addEventListener("click", () => void removeBudget());

  return { load, reset };
}
