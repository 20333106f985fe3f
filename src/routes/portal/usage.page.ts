import { html } from "hono/html";

/**
 * The BYOK page's Usage panel (its script is web/usage.ts): this month's `GET /usage` by model
 * and by API key, and the monthly budgets with their spend (`/usage/budgets`): the tenant's and
 * each API key's, chosen in "Budget of", set and removed by admins. Members see their own calls
 * only, as the API answers them.
 */

/** A usage table: what its groups are, and the same figures for each. */
const table = (id: string, caption: string, what: string) => html`
  <table id="${id}" class="usage" aria-busy="false">
    <caption>${caption}</caption>
    <thead><tr><th scope="col">${what}</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Tokens in / out</th><th scope="col" class="num">Cost</th></tr></thead>
    <tbody></tbody>
  </table>`;

export const usageSection = html`
<section class="card" aria-labelledby="usage-title">
  <h2 id="usage-title" tabindex="-1">Usage this month</h2>
  <p class="hint" id="usage-range">Loading usage…</p>
  <p class="hint readonly" id="usage-scope" hidden>Your own calls only: the workspace's usage and budget are shown to admins.</p>
  <div id="usage-error" aria-live="assertive"></div>
  <dl class="totals" id="usage-totals"></dl>
  <div class="usage-tables">
    ${table("usage-by-model", "By model", "Model")}
    ${table("usage-by-key", "By API key", "API key")}
  </div>
</section>
<section class="card" aria-labelledby="budget-title" id="budget">
  <h2 id="budget-title" tabindex="-1">Monthly budget</h2>
  <p class="field" id="budget-for-row" hidden>
    <label for="budget-for">Budget of</label>
    <select id="budget-for"><option value="">the whole workspace</option></select>
  </p>
  <p id="budget-state" aria-live="polite">Loading the budget…</p>
  <meter id="budget-meter" min="0" max="1" low="0.8" high="0.95" optimum="0" aria-labelledby="budget-state" hidden></meter>
  <form id="budget-form" autocomplete="off" novalidate hidden>
    <label for="budget-limit">Monthly limit (USD)</label>
    <div class="field">
      <input id="budget-limit" name="monthly_limit_usd" inputmode="decimal" autocomplete="off" placeholder="250.00" aria-describedby="budget-limit-hint budget-limit-error">
      <button type="submit" class="primary">Set budget</button>
      <button type="button" id="budget-remove" class="danger" hidden>Remove budget</button>
    </div>
    <p class="hint" id="budget-limit-hint">Provider calls are refused (402 <code>budget_exceeded</code>) once this calendar month's spend (UTC) reaches it. At most two decimals.</p>
    <p class="field-msg" id="budget-limit-error" data-error-for="monthly_limit_usd"></p>
    <div class="field-error" aria-live="assertive"></div>
  </form>
</section>`;
