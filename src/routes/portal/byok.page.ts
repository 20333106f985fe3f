/**
 * The BYOK page: one HTML document with its CSS and plain JS inline, allowed
 * by a per-request CSP nonce (see portal.index.ts). No external assets.
 *
 * Token: the page takes the bearer token from the embedding portal
 * (`postMessage({type: "brain-byok:token", token})` from an allowed portal
 * origin, after the page posts `{type: "brain-byok:ready"}` to its parent) or
 * from a `#token=` fragment, which it removes from the address bar at once.
 * It keeps the token in memory and in sessionStorage (this tab only, gone when
 * the tab closes) so a reload does not sign the admin out. Keys typed into the
 * forms are sent once and cleared; the page never receives a stored key.
 */

const CSS = `
:root{--bg:#f6f7fb;--card:#fff;--text:#161a23;--muted:#5b6374;--line:#e3e6ee;--accent:#4f46e5;--accent-ink:#fff;--danger:#c8281e;--ok:#0f7a4a;--ring:#a5b4fc;--radius:12px;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0f1117;--card:#171a22;--text:#e8eaf0;--muted:#9aa3b5;--line:#2a2f3b;--accent:#818cf8;--accent-ink:#0f1117;--danger:#f87171;--ok:#4ade80;--ring:#6366f1}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header.top{display:flex;align-items:center;gap:12px;padding:14px 28px;background:var(--card);border-bottom:1px solid var(--line)}
.mark{width:28px;height:28px;border-radius:8px;background:linear-gradient(135deg,#6366f1,#a855f7);flex:none}
.brand{font-weight:650;letter-spacing:-.01em}.brand small{color:var(--muted);font-weight:500;margin-left:8px}
.session{margin-left:auto;display:flex;align-items:center;gap:12px;color:var(--muted);font-size:13px}
main{max-width:960px;margin:0 auto;padding:28px}
h1{font-size:24px;margin:0 0 4px;letter-spacing:-.02em}h2{font-size:17px;margin:0 0 12px}
.lead{color:var(--muted);margin:0 0 24px}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:20px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
section+section{margin-top:24px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:10px 8px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}
tr:last-child td{border-bottom:0}
td.num{font-variant-numeric:tabular-nums}
.svc{display:flex;align-items:center;gap:10px;font-weight:600}
.logo{width:26px;height:26px;border-radius:7px;display:grid;place-items:center;font-size:12px;font-weight:700;color:#fff;background:#64748b}
.logo.openai{background:#10a37f}.logo.anthropic{background:#d97757}
code,.hint-code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.pill{display:inline-block;padding:1px 8px;border-radius:99px;background:color-mix(in srgb,var(--accent) 12%,transparent);color:var(--accent);font-size:12px;font-weight:600}
.empty,.loading{color:var(--muted);text-align:center;padding:24px 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:16px}
form.card{display:flex;flex-direction:column;gap:10px}
form h3{margin:0;font-size:15px;display:flex;align-items:center;gap:10px}
label{font-weight:600;font-size:13px}
.field{display:flex;gap:6px}
.field input{flex:1}
input{min-width:0;font:inherit;padding:8px 10px;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--text)}
input[aria-invalid=true]{border-color:var(--danger)}
button{font:inherit;font-weight:600;border-radius:8px;padding:8px 14px;border:1px solid var(--line);background:var(--card);color:var(--text);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-ink)}
button.danger{color:var(--danger)}button.danger.solid{background:var(--danger);border-color:var(--danger);color:#fff}
button:disabled{opacity:.6;cursor:progress}
button:focus-visible,input:focus-visible{outline:3px solid var(--ring);outline-offset:1px}
.hint{color:var(--muted);font-size:13px;margin:0}
.field-error{color:var(--danger);font-size:13px;margin:0}
.msg{border-radius:10px;padding:12px 14px;margin-bottom:16px;border:1px solid}
.msg.ok{border-color:color-mix(in srgb,var(--ok) 40%,transparent);background:color-mix(in srgb,var(--ok) 10%,transparent)}
.msg.err{border-color:color-mix(in srgb,var(--danger) 40%,transparent);background:color-mix(in srgb,var(--danger) 9%,transparent)}
.msg .meta{display:block;color:var(--muted);font-size:12px;margin-top:2px}
.msg:empty{display:none}
.signin{max-width:460px;margin:48px auto;text-align:center}
.signin p{color:var(--muted)}
dialog{border:1px solid var(--line);border-radius:var(--radius);padding:22px;max-width:420px;background:var(--card);color:var(--text)}
dialog::backdrop{background:rgba(15,17,23,.45)}
dialog .actions{display:flex;justify-content:flex-end;gap:8px;margin-top:18px}
[hidden]{display:none!important}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

const JS = `(() => {
const TOKEN_KEY = "brain.byok.token";
const NAMES = { openai: "OpenAI", anthropic: "Anthropic" };
const body = document.body;
const origins = (body.dataset.portalOrigins || "").split(" ").filter(Boolean);
const $ = (id) => document.getElementById(id);
const el = (tag, props, ...kids) => { const n = document.createElement(tag); Object.assign(n, props || {}); n.append(...kids); return n; };
const nameOf = (s) => NAMES[s] || s;
let token = null;
let keys = new Map();
let loaded = false;

function setToken(t) {
  token = t;
  loaded = false;
  try { t ? sessionStorage.setItem(TOKEN_KEY, t) : sessionStorage.removeItem(TOKEN_KEY); } catch {}
  render();
  if (t) load();
}
function claims(t) {
  try { return JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))); } catch { return {}; }
}

// Messages: successes are polite, errors assertive (role=alert).
function say(text) { $("error").replaceChildren(); $("notice").replaceChildren(el("div", { className: "msg ok", textContent: text })); }
function fail(err, where) {
  const box = el("div", { className: "msg err" }, el("strong", { textContent: err.detail || err.title || "Something went wrong." }));
  const meta = [err.code && "Code: " + err.code, err.requestId && "Request " + err.requestId].filter(Boolean).join(" · ");
  if (meta) box.append(el("span", { className: "meta", textContent: meta }));
  $("notice").replaceChildren();
  (where || $("error")).replaceChildren(box);
}

async function api(method, path, payload) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = "Bearer " + token;
  if (payload) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload ? JSON.stringify(payload) : undefined, credentials: "omit", cache: "no-store" });
  } catch {
    throw { status: 0, code: "network_error", detail: "The gateway could not be reached. Check your connection and retry." };
  }
  let data = null;
  try { data = await res.json(); } catch {}
  if (res.ok) return data;
  const p = data && typeof data === "object" ? data : {};
  const err = { status: res.status, code: p.code || "unexpected_response", title: p.title, detail: p.detail || "The gateway answered " + res.status + ".", requestId: p.requestId || res.headers.get("x-request-id"), errors: p.errors };
  if (res.status === 401 && path !== "/dev/session") {
    setToken(null);
    fail({ ...err, detail: "Your session has expired or is invalid. Sign in again." }, $("signin-error"));
  }
  throw err;
}

function busy(button, on, label) {
  button.disabled = on;
  button.setAttribute("aria-busy", String(on));
  if (label) button.textContent = label;
}

function fmt(iso) {
  const d = new Date(iso);
  return el("time", { dateTime: iso, title: iso, textContent: isNaN(d) ? "—" : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) });
}

async function load() {
  const tbody = $("rows");
  $("keys").setAttribute("aria-busy", "true");
  // Placeholder only on the first load; later reloads keep the rows in place until the new list arrives.
  if (!loaded) tbody.replaceChildren(el("tr", {}, el("td", { colSpan: 6, className: "loading", textContent: "Loading keys…" })));
  try {
    const list = await api("GET", "/vault/keys");
    keys = new Map(list.items.map((k) => [k.service, k]));
    loaded = true;
    renderRows();
  } catch (err) {
    tbody.replaceChildren(el("tr", {}, el("td", { colSpan: 6, className: "empty", textContent: "Keys could not be loaded." })));
    if (err.status !== 401) fail(err);
  } finally {
    $("keys").setAttribute("aria-busy", "false");
  }
}

function renderRows() {
  const rows = [...keys.values()].sort((a, b) => a.service.localeCompare(b.service)).map((k) => {
    const del = el("button", { type: "button", className: "danger", textContent: "Delete" });
    del.setAttribute("aria-label", "Delete " + nameOf(k.service) + " key");
    del.addEventListener("click", () => confirmDelete(k.service, del));
    const logo = el("span", { className: "logo " + k.service, textContent: nameOf(k.service).slice(0, 2) });
    logo.setAttribute("aria-hidden", "true");
    const tr = el("tr", {},
      el("td", {}, el("span", { className: "svc" }, logo, nameOf(k.service))),
      el("td", {}, el("code", { textContent: k.key_hint || "—" })),
      el("td", { className: "num" }, el("span", { className: "pill", textContent: "v" + k.version })),
      el("td", {}, fmt(k.created_at)),
      el("td", {}, fmt(k.updated_at)),
      el("td", {}, del));
    tr.dataset.service = k.service;
    return tr;
  });
  $("rows").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 6, className: "empty", textContent: "No provider keys yet. Add one below." }))]));
  for (const form of document.querySelectorAll("form[data-service]")) {
    const k = keys.get(form.dataset.service);
    form.querySelector("[data-current]").textContent = k ? "Current key " + (k.key_hint || "") + " · v" + k.version + ". Saving again rotates it." : "No key stored yet.";
    form.querySelector("button[type=submit]").textContent = k ? "Rotate key" : "Save key";
  }
}

async function save(form) {
  const input = form.querySelector("input[name=api_key]");
  const svcInput = form.querySelector("input[name=service]");
  const service = form.dataset.service || (svcInput.value || "").trim().toLowerCase();
  const button = form.querySelector("button[type=submit]");
  const errorBox = form.querySelector(".field-error");
  const label = button.textContent;
  errorBox.replaceChildren();
  input.removeAttribute("aria-invalid");
  if (svcInput) svcInput.removeAttribute("aria-invalid");
  const missing = !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(service) ? [svcInput, "Enter a service name: lowercase letters, digits, - or _."] : !input.value ? [input, "Enter the API key."] : null;
  if (missing) {
    missing[0].setAttribute("aria-invalid", "true");
    errorBox.replaceChildren(el("div", { className: "msg err", textContent: missing[1] }));
    return missing[0].focus();
  }
  busy(button, true, "Saving…");
  // The key leaves the page with this request: the field is cleared now, whatever the outcome.
  const payload = { service, api_key: input.value };
  input.value = "";
  input.type = "password";
  const t = form.querySelector(".toggle");
  t.textContent = "Show";
  t.setAttribute("aria-pressed", "false");
  try {
    const r = await api("POST", "/vault/keys/" + encodeURIComponent(service), payload);
    say((r.action === "rotated" ? "Rotated the " : "Saved the ") + nameOf(service) + " key (" + r.key_hint + ", version " + r.version + ").");
    if (svcInput) svcInput.value = "";
    await load();
  } catch (err) {
    if (err.code === "validation_failed") input.setAttribute("aria-invalid", "true");
    if (err.status !== 401) fail(err, err.code === "validation_failed" ? errorBox : null);
  } finally {
    busy(button, false, keys.has(service) ? "Rotate key" : label);
  }
}

function confirmDelete(service, opener) {
  const dialog = $("confirm");
  $("confirm-title").textContent = "Delete the " + nameOf(service) + " key?";
  dialog.dataset.service = service;
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return opener.focus();
    busy(opener, true, "Deleting…");
    try {
      await api("DELETE", "/vault/keys/" + encodeURIComponent(service));
      say("Deleted the " + nameOf(service) + " key.");
      await load();
      $("keys-title").focus();
    } catch (err) {
      if (err.status !== 401) fail(err);
      busy(opener, false, "Delete");
    }
  }, { once: true });
}

function render() {
  const signedIn = !!token;
  $("app").hidden = !signedIn;
  $("signin").hidden = signedIn;
  $("session").hidden = !signedIn;
  if (signedIn) {
    const c = claims(token);
    $("who").textContent = (c.sub || "admin") + (c.tenant_id ? " · tenant " + String(c.tenant_id).slice(0, 8) : "");
  }
}

for (const form of document.querySelectorAll("form.key")) {
  form.addEventListener("submit", (e) => { e.preventDefault(); save(form); });
  // Editing a field clears its previous error.
  form.addEventListener("input", (e) => { e.target.removeAttribute("aria-invalid"); form.querySelector(".field-error").replaceChildren(); });
  const t = form.querySelector(".toggle");
  t.addEventListener("click", () => {
    const input = form.querySelector("input[name=api_key]");
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    t.textContent = show ? "Hide" : "Show";
    t.setAttribute("aria-pressed", String(show));
  });
}
$("confirm").addEventListener("cancel", () => { $("confirm").returnValue = ""; });
for (const b of $("confirm").querySelectorAll("[data-close]")) b.addEventListener("click", () => $("confirm").close(b.dataset.close));
$("signout").addEventListener("click", () => { setToken(null); $("notice").replaceChildren(); $("error").replaceChildren(); });

const dev = $("dev-signin");
if (body.dataset.devLogin === "true") {
  dev.hidden = false;
  dev.addEventListener("click", async () => {
    busy(dev, true, "Signing in…");
    try {
      const s = await api("POST", "/dev/session");
      $("signin-error").replaceChildren();
      setToken(s.token);
      say("Signed in as the development tenant admin.");
    } catch (err) {
      fail(err, $("signin-error"));
    } finally {
      busy(dev, false, "Sign in as dev admin");
    }
  });
}

// The embedding portal hands over (and refreshes) the token.
window.addEventListener("message", (e) => {
  if (e.source !== window.parent || !origins.includes(e.origin)) return;
  const d = e.data;
  if (d && d.type === "brain-byok:token" && typeof d.token === "string") setToken(d.token);
});
if (window.parent !== window) for (const o of origins) window.parent.postMessage({ type: "brain-byok:ready" }, o);

const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) history.replaceState(null, "", location.pathname + location.search);
let stored = null;
try { stored = sessionStorage.getItem(TOKEN_KEY); } catch {}
setToken(fromHash || stored);
})();`;

const keyForm = (service: string, title: string, placeholder: string, hint: string) => `
<form class="card key" data-service="${service}" autocomplete="off" novalidate>
  <h3><span class="logo ${service}" aria-hidden="true">${title.slice(0, 2)}</span>${title}</h3>
  <label for="key-${service}">${title} API key</label>
  <div class="field">
    <input id="key-${service}" name="api_key" type="password" autocomplete="off" spellcheck="false" autocapitalize="off" required minlength="8" maxlength="512" placeholder="${placeholder}" aria-describedby="hint-${service} cur-${service}" data-1p-ignore data-lpignore="true">
    <button type="button" class="toggle" aria-controls="key-${service}" aria-pressed="false">Show</button>
  </div>
  <p class="hint" id="hint-${service}">${hint}</p>
  <p class="hint" id="cur-${service}" data-current>No key stored yet.</p>
  <div class="field-error" aria-live="assertive"></div>
  <button type="submit" class="primary">Save key</button>
</form>`;

const OTHER_FORM = `
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
  <div class="field-error" aria-live="assertive"></div>
  <button type="submit" class="primary">Save key</button>
</form>`;

const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The page, with the nonce that its CSP allows and the settings the script reads. */
export function byokPage(opts: { nonce: string; devLogin: boolean; portalOrigins: string[] }): string {
  const nonce = escapeAttr(opts.nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Provider keys · Brain</title>
<style nonce="${nonce}">${CSS}</style>
</head>
<body data-dev-login="${opts.devLogin}" data-portal-origins="${escapeAttr(opts.portalOrigins.join(" "))}">
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
    <p class="lead">Bring your own OpenAI, Anthropic or other provider keys. Keys are stored encrypted in the secret store and are never shown again; only the last four characters are kept as a hint.</p>
    <div id="notice" role="status" aria-live="polite"></div>
    <div id="error" role="alert" aria-live="assertive"></div>
    <section class="card" aria-labelledby="keys-title">
      <h2 id="keys-title" tabindex="-1">Stored keys</h2>
      <table id="keys" aria-busy="false" aria-labelledby="keys-title">
        <thead><tr><th scope="col">Service</th><th scope="col">Key</th><th scope="col">Version</th><th scope="col">Created</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody id="rows"></tbody>
      </table>
    </section>
    <section aria-labelledby="add-title">
      <h2 id="add-title">Add or rotate a key</h2>
      <div class="grid">
        ${keyForm("openai", "OpenAI", "sk-…", "Starts with sk-. Create one at platform.openai.com.")}
        ${keyForm("anthropic", "Anthropic", "sk-ant-…", "Starts with sk-ant-. Create one in the Anthropic Console.")}
        ${OTHER_FORM}
      </div>
    </section>
  </div>
</main>
<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
  <h2 id="confirm-title">Delete this key?</h2>
  <p id="confirm-text" class="hint">Every version is removed. Agents using this provider stop working until a new key is saved.</p>
  <div class="actions"><button type="button" data-close="cancel">Cancel</button><button type="button" data-close="delete" class="danger solid">Delete key</button></div>
</dialog>
<script nonce="${nonce}">${JS}</script>
</body>
</html>`;
}
