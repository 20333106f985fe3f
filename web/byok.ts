/**
 * The BYOK page's script (served as /assets/byok.js; the HTML is
 * src/routes/portal/byok.page.ts). It talks to the keys API through the typed
 * client, so the shapes it reads are the routes' own.
 *
 * Token: taken from the embedding portal (`postMessage({type: "brain-byok:token", token})`
 * from an allowed portal origin, after the page posts `{type: "brain-byok:ready"}` to its
 * parent) or from a `#token=` fragment, removed from the address bar at once. It is kept in
 * memory and in sessionStorage (this tab only, gone when the tab closes) so a reload does
 * not sign the admin out. Keys typed into the forms are sent once and cleared; the page
 * never receives a stored key. The Connectors section is web/connectors.ts, the Developer
 * section (tenant API keys) web/developer.ts, the Usage panel web/usage.ts.
 */
import { BrainApiError, createBrainApi, type KeyInfo, type StoreKeyResult, type VerifyKeyResult } from "../src/client";
import { PROVIDER_NAMES } from "../src/llm/catalog";
import { connectorsSection } from "./connectors";
import { developerSection } from "./developer";
import { usageSection } from "./usage";
import { $, busy, confirmed, el, fail, failure, messageRow, must, say, showSecret, when, wireDialog } from "./ui";

const TOKEN_KEY = "brain.byok.token";
const NAMES: Record<string, string> = PROVIDER_NAMES;
const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** The keys table's columns (src/routes/portal/byok.page.ts). */
const COLUMNS = 8;
/** How the provider's verdicts read, and the pill style each takes. */
const VERDICTS = {
  valid: { label: "Verified", style: "succeeded" },
  rejected: { label: "Rejected", style: "failed" },
  unknown: { label: "Unknown", style: "never" },
} as const;

const body = document.body;
const origins = (body.dataset.portalOrigins ?? "").split(" ").filter(Boolean);

// Own entries only: a service may be called "constructor" or "toString".
const nameOf = (service: string) => (Object.hasOwn(NAMES, service) ? NAMES[service]! : service);

let token: string | null = null;
let keys = new Map<string, KeyInfo>();
let loaded = false;

const api = createBrainApi({
  baseUrl: location.origin,
  getToken: () => token,
  fetch: (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("accept", "application/json");
    return fetch(input, { ...init, headers, credentials: "omit", cache: "no-store" });
  },
});
const connectors = connectorsSection({ api, call });
const developer = developerSection({ api, call });
const usage = usageSection({ api, call });

function setToken(t: string | null) {
  token = t;
  loaded = false;
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage may be blocked (third-party frame); the token still lives in memory.
  }
  render();
  connectors.reset();
  developer.reset();
  usage.reset();
  if (t) {
    void load();
    void connectors.load();
    void developer.load();
    void usage.load();
  }
}

function claims(t: string): { sub?: string; tenant_id?: unknown } {
  try {
    return JSON.parse(atob(t.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

/** Runs an API call; a 401 signs the admin out with a message where they sign in again. */
async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    const f = failure(err);
    if (f.status === 401) {
      setToken(null);
      fail({ ...f, detail: "Your session has expired or is invalid. Sign in again." }, $("signin-error"));
    }
    throw err;
  }
}

/** `POST /dev/session` (development only; not part of the API, so not in the typed client). */
async function devSession(): Promise<{ token: string }> {
  let res: Response;
  try {
    res = await fetch("/dev/session", {
      method: "POST",
      headers: { accept: "application/json" },
      credentials: "omit",
      cache: "no-store",
    });
  } catch (err) {
    throw BrainApiError.network(err);
  }
  if (!res.ok) throw await BrainApiError.fromResponse(res);
  return (await res.json()) as { token: string };
}

async function load() {
  const table = $("keys");
  const tbody = $("rows");
  table.setAttribute("aria-busy", "true");
  // Placeholder only on the first load; later reloads keep the rows in place until the new list arrives.
  if (!loaded) tbody.replaceChildren(messageRow(COLUMNS, "loading", "Loading keys…"));
  try {
    const list = await call(() => api.vault.listKeys());
    keys = new Map(list.items.map((k) => [k.service, k]));
    loaded = true;
    renderRows();
  } catch (err) {
    tbody.replaceChildren(messageRow(COLUMNS, "empty", "Keys could not be loaded."));
    const f = failure(err);
    if (f.status !== 401) fail(f);
  } finally {
    table.setAttribute("aria-busy", "false");
  }
}

/** The provider's last verdict on the current version, and when it was given. */
function checkCell(k: KeyInfo) {
  const verdict = k.verification ? VERDICTS[k.verification] : { label: "Not checked", style: "never" };
  const cell = el(
    "td",
    { className: "check" },
    el("span", { className: `pill status ${verdict.style}`, textContent: verdict.label }),
  );
  if (k.last_verified_at) cell.append(el("span", { className: "counts" }, " ", when(k.last_verified_at)));
  return cell;
}

/** The expiry, marked when it is near or past (the key is refused for use after it). */
function expiryCell(k: KeyInfo) {
  if (!k.expires_at) return el("td", { textContent: "—" });
  const cell = el("td", {}, when(k.expires_at));
  if (k.expired) cell.append(" ", el("span", { className: "pill status failed", textContent: "Expired" }));
  else if (k.expiring_soon)
    cell.append(" ", el("span", { className: "pill status failed", textContent: "Expires soon" }));
  return cell;
}

function keyRow(k: KeyInfo) {
  const check = el("button", { type: "button", textContent: "Check again" });
  check.setAttribute("aria-label", `Check the ${nameOf(k.service)} key again`);
  check.addEventListener("click", () => void checkAgain(k.service, check));
  const del = el("button", { type: "button", className: "danger", textContent: "Delete" });
  del.setAttribute("aria-label", `Delete ${nameOf(k.service)} key`);
  del.addEventListener("click", () => void confirmDelete(k.service, del));
  const logo = el("span", { className: `logo ${k.service}`, textContent: nameOf(k.service).slice(0, 2) });
  logo.setAttribute("aria-hidden", "true");
  const tr = el(
    "tr",
    {},
    el("td", {}, el("span", { className: "svc" }, logo, nameOf(k.service))),
    el("td", {}, el("code", { textContent: k.key_hint || "—" })),
    el("td", { className: "num" }, el("span", { className: "pill", textContent: `v${k.version}` })),
    checkCell(k),
    el("td", {}, k.last_used_at ? when(k.last_used_at) : "Never"),
    expiryCell(k),
    el("td", {}, when(k.updated_at)),
    el("td", { className: "actions" }, check, del),
  );
  tr.dataset.service = k.service;
  return tr;
}

/** What the provider said, as one sentence for the notice. */
function verdictText(service: string, r: StoreKeyResult | VerifyKeyResult): string {
  if (!r.verification) return "";
  const word = { valid: "works", rejected: "was rejected", unknown: "could not be checked" }[r.verification];
  return ` The provider check: the ${nameOf(service)} key ${word}. ${r.verification_reason ?? ""}`.trimEnd();
}

/** `POST /vault/keys/:service/verify`: asks the provider again; the list shows the new verdict. */
async function checkAgain(service: string, button: HTMLButtonElement) {
  busy(button, true, "Checking…");
  try {
    const r = await call(() => api.vault.verifyKey(service));
    say(`Checked the ${nameOf(service)} key (${r.key_hint ?? "?"}, version ${r.version}).${verdictText(service, r)}`);
    await load();
  } catch (err) {
    const f = failure(err);
    if (f.status !== 401) fail(f);
  } finally {
    busy(button, false, "Check again");
  }
}

function renderRows() {
  const rows = [...keys.values()].sort((a, b) => a.service.localeCompare(b.service)).map(keyRow);
  $("rows").replaceChildren(
    ...(rows.length ? rows : [messageRow(COLUMNS, "empty", "No provider keys yet. Add one below.")]),
  );
  for (const form of document.querySelectorAll<HTMLFormElement>("form[data-service]")) {
    const k = keys.get(form.dataset.service!);
    must(form.querySelector("[data-current]"), "[data-current]").textContent = k
      ? `Current key ${k.key_hint || ""} · v${k.version}. Saving again rotates it.`
      : "No key stored yet.";
    must(form.querySelector("button[type=submit]"), "submit button").textContent = k ? "Rotate key" : "Save key";
    // A credential's readable fields (Azure's endpoint…) come back filled in: rotating needs only the new key.
    for (const field of partsOf(form).fields) {
      const stored = k?.[field.name as keyof KeyInfo];
      if (typeof stored === "string" && !field.value) field.value = stored;
    }
  }
}

/** The form's parts the script uses. The "another provider" form alone has a service field. */
function partsOf(form: HTMLFormElement) {
  return {
    input: must(form.querySelector<HTMLInputElement>("input[name=api_key]"), "key field"),
    expiry: must(form.querySelector<HTMLInputElement>("input[name=expires_at]"), "expiry field"),
    service: form.querySelector<HTMLInputElement>("input[name=service]"),
    submit: must(form.querySelector<HTMLButtonElement>("button[type=submit]"), "submit button"),
    toggle: must(form.querySelector<HTMLButtonElement>(".toggle"), "show/hide button"),
    errorBox: must(form.querySelector<HTMLElement>(".field-error"), ".field-error"),
    /** The credential's fields besides the key (Azure OpenAI), in form order. */
    fields: [...form.querySelectorAll<HTMLInputElement>("input[data-field]")],
  };
}

function showKey(form: HTMLFormElement, show: boolean) {
  const { input, toggle } = partsOf(form);
  showSecret(input, toggle, show);
}

async function save(form: HTMLFormElement) {
  const { input, expiry, service: svcInput, submit: button, errorBox, fields } = partsOf(form);
  const service = form.dataset.service || (svcInput?.value ?? "").trim().toLowerCase();
  const label = button.textContent;
  errorBox.replaceChildren();
  input.removeAttribute("aria-invalid");
  svcInput?.removeAttribute("aria-invalid");
  for (const f of fields) f.removeAttribute("aria-invalid");
  const emptyField = fields.find((f) => !f.value.trim());
  const missing: [HTMLInputElement, string] | null =
    svcInput && !SERVICE_NAME.test(service)
      ? [svcInput, "Enter a service name: lowercase letters, digits, - or _."]
      : emptyField
        ? [emptyField, `Enter the ${must(form.querySelector(`label[for="${emptyField.id}"]`), "label").textContent}.`]
        : !input.value
          ? [input, "Enter the API key."]
          : null;
  if (missing) {
    missing[0].setAttribute("aria-invalid", "true");
    errorBox.replaceChildren(el("div", { className: "msg err", textContent: missing[1] }));
    missing[0].focus();
    return;
  }
  busy(button, true, "Saving…");
  // The key leaves the page with this request: the field is cleared now, whatever the outcome.
  const apiKey = input.value;
  input.value = "";
  showKey(form, false);
  try {
    const given = Object.fromEntries(fields.map((f) => [f.name, f.value.trim()]));
    // A date means the end of that day is unknown: the key is taken as stopping at its start (UTC).
    const expiresAt = expiry.value ? `${expiry.value}T00:00:00Z` : undefined;
    const r = await call(() => api.vault.storeKey(service, apiKey, { fields: given, verify: true, expiresAt }));
    say(
      `${r.action === "rotated" ? "Rotated the " : "Saved the "}${nameOf(service)} key (${r.key_hint}, version ${r.version}).${verdictText(service, r)}`,
    );
    // Shape warnings: stored anyway, the provider decides; shown so a typo is noticed.
    for (const w of r.warnings ?? []) $("notice").append(el("div", { className: "msg warn", textContent: w }));
    if (svcInput) svcInput.value = "";
    expiry.value = "";
    await load();
  } catch (err) {
    const f = failure(err);
    // The field the problem names (an endpoint, a deployment…), else the key.
    const named = fields.find((field) => f.errors?.some((e) => e.path === field.name));
    const beside = f.code === "validation_failed" || f.code === "provider_key_rejected";
    if (beside || f.code === "url_not_allowed") (named ?? input).setAttribute("aria-invalid", "true");
    if (f.status !== 401) fail(f, beside ? errorBox : undefined);
  } finally {
    busy(button, false, keys.has(service) ? "Rotate key" : (label ?? "Save key"));
  }
}

async function confirmDelete(service: string, opener: HTMLButtonElement) {
  const dialog = $<HTMLDialogElement>("confirm");
  $("confirm-title").textContent = `Delete the ${nameOf(service)} key?`;
  dialog.dataset.service = service;
  if (!(await confirmed(dialog, opener, "delete"))) return;
  busy(opener, true, "Deleting…");
  try {
    await call(() => api.vault.deleteKey(service));
    say(`Deleted the ${nameOf(service)} key.`);
    await load();
    $("keys-title").focus();
  } catch (err) {
    const f = failure(err);
    if (f.status !== 401) fail(f);
    busy(opener, false, "Delete");
  }
}

function render() {
  const signedIn = !!token;
  $("app").hidden = !signedIn;
  $("signin").hidden = signedIn;
  $("session").hidden = !signedIn;
  if (token) {
    const c = claims(token);
    $("who").textContent = (c.sub || "admin") + (c.tenant_id ? ` · tenant ${String(c.tenant_id).slice(0, 8)}` : "");
  }
}

for (const form of document.querySelectorAll<HTMLFormElement>("form.key")) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void save(form);
  });
  // Editing a field clears its previous error.
  form.addEventListener("input", (e) => {
    (e.target as Element).removeAttribute("aria-invalid");
    partsOf(form).errorBox.replaceChildren();
  });
  partsOf(form).toggle.addEventListener("click", () => showKey(form, partsOf(form).input.type === "password"));
}

wireDialog($<HTMLDialogElement>("confirm"));
$("signout").addEventListener("click", () => {
  setToken(null);
  $("notice").replaceChildren();
  $("error").replaceChildren();
});

const dev = $<HTMLButtonElement>("dev-signin");
if (body.dataset.devLogin === "true") {
  dev.hidden = false;
  dev.addEventListener("click", async () => {
    busy(dev, true, "Signing in…");
    try {
      const s = await devSession();
      $("signin-error").replaceChildren();
      setToken(s.token);
      say("Signed in as the development tenant admin.");
    } catch (err) {
      fail(failure(err), $("signin-error"));
    } finally {
      busy(dev, false, "Sign in as dev admin");
    }
  });
}

// The embedding portal hands over (and refreshes) the token.
window.addEventListener("message", (e: MessageEvent<unknown>) => {
  if (e.source !== window.parent || !origins.includes(e.origin)) return;
  const d = e.data as { type?: unknown; token?: unknown } | null;
  if (d?.type === "brain-byok:token" && typeof d.token === "string") setToken(d.token);
});
if (window.parent !== window) for (const o of origins) window.parent.postMessage({ type: "brain-byok:ready" }, o);

const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) history.replaceState(null, "", location.pathname + location.search);
let stored: string | null = null;
try {
  stored = sessionStorage.getItem(TOKEN_KEY);
} catch {
  // Storage blocked: nothing stored.
}
setToken(fromHash || stored);
