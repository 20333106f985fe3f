/**
 * The page's small DOM helpers and its message areas, shared by the keys
 * part (byok.ts) and the connectors part (connectors.ts).
 */
import { isBrainApiError } from "../src/client";

/** What the page shows of a failed call. */
export interface Failure {
  status: number;
  code: string;
  title?: string | undefined;
  detail?: string | undefined;
  requestId?: string | undefined;
  errors?: Array<{ path: string; message: string }> | undefined;
}

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
}

export function must<T extends Element>(node: T | null, what: string): T {
  if (!node) throw new Error(`${what} is missing from the page`);
  return node;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...kids: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...kids);
  return node;
}

export function failure(err: unknown): Failure {
  if (!isBrainApiError(err)) return { status: 0, code: "unexpected_response" };
  if (err.code === "network_error")
    return { ...err, detail: "The gateway could not be reached. Check your connection and retry." };
  return err;
}

// Messages: successes are polite, errors assertive (role=alert).
export function say(text: string) {
  $("error").replaceChildren();
  $("notice").replaceChildren(el("div", { className: "msg ok", textContent: text }));
}

export function fail(err: Failure, where: HTMLElement = $("error")) {
  const box = el(
    "div",
    { className: "msg err" },
    el("strong", { textContent: err.detail || err.title || "Something went wrong." }),
  );
  const meta = [err.code && `Code: ${err.code}`, err.requestId && `Request ${err.requestId}`]
    .filter(Boolean)
    .join(" · ");
  if (meta) box.append(el("span", { className: "meta", textContent: meta }));
  $("notice").replaceChildren();
  where.replaceChildren(box);
}

export function busy(button: HTMLButtonElement, on: boolean, label?: string) {
  button.disabled = on;
  button.setAttribute("aria-busy", String(on));
  if (label) button.textContent = label;
}

export function when(iso: string) {
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime())
    ? "—"
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  return el("time", { dateTime: iso, title: iso, textContent: text });
}

/** A table row of one cell spanning `columns`: "Loading…", "None yet" and the like. */
export const messageRow = (columns: number, className: string, text: string) =>
  el("tr", {}, el("td", { colSpan: columns, className, textContent: text }));

/** Wires a password field's Show/Hide button (`button.toggle[aria-controls]`). */
export function showSecret(input: HTMLInputElement, toggle: HTMLButtonElement, show: boolean) {
  input.type = show ? "text" : "password";
  toggle.textContent = show ? "Hide" : "Show";
  toggle.setAttribute("aria-pressed", String(show));
}

/** Clears a form's per-field errors: its `[data-error-for]` lines, its aria-invalid marks and its `.field-error` box. */
export function clearFieldErrors(form: HTMLElement) {
  for (const line of form.querySelectorAll("[data-error-for]")) line.replaceChildren();
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  form.querySelector(".field-error")?.replaceChildren();
}

/**
 * Shows each error on the line of the field it names: the visible `[data-error-for]` whose
 * path is the error's path or its longest prefix (`credentials` takes `credentials.x`), and
 * marks that field's controls invalid. Returns the errors no line took; focuses the first marked control.
 */
export function showFieldErrors(form: HTMLElement, errors: ReadonlyArray<{ path: string; message: string }>) {
  const lines = [...form.querySelectorAll<HTMLElement>("[data-error-for]")].filter((l) => !l.closest("[hidden]"));
  const controls = [...form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input[name], select[name]")];
  const left: Array<{ path: string; message: string }> = [];
  let first: HTMLElement | undefined;
  for (const e of errors) {
    const covers = (p: string) => e.path === p || e.path.startsWith(`${p}.`);
    const line = lines
      .filter((l) => covers(l.dataset.errorFor!))
      .sort((a, b) => b.dataset.errorFor!.length - a.dataset.errorFor!.length)[0];
    if (!line) {
      left.push(e);
      continue;
    }
    const path = line.dataset.errorFor!;
    line.append(el("span", { textContent: e.message }), " ");
    for (const c of controls)
      if (!c.disabled && !c.closest("[hidden]") && (c.name === path || c.name.startsWith(`${path}.`))) {
        c.setAttribute("aria-invalid", "true");
        first ??= c;
      }
  }
  first?.focus();
  return left;
}

const readOnlyHandlers: Array<() => void> = [];

/** `fn` runs when the page learns that its caller may only read (a section turns its changes off). */
export function onReadOnly(fn: () => void) {
  readOnlyHandlers.push(fn);
}

/** A change refused with 403: every section turns read-only (every change the page offers needs the admin role). */
export function becomeReadOnly() {
  for (const fn of readOnlyHandlers) fn();
}

/** Wires a dialog's `[data-close]` buttons (it closes with their value) and Escape (it closes with none). */
export function wireDialog(dialog: HTMLDialogElement) {
  dialog.addEventListener("cancel", () => {
    dialog.returnValue = "";
  });
  for (const b of dialog.querySelectorAll<HTMLButtonElement>("[data-close]"))
    b.addEventListener("click", () => dialog.close(b.dataset.close));
}

/**
 * Asks with a confirmation dialog (wired by `wireDialog`): true when it closes with `action`,
 * else false and the focus back on `opener`.
 */
export function confirmed(dialog: HTMLDialogElement, opener: HTMLElement, action: string): Promise<boolean> {
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener(
      "close",
      () => {
        const yes = dialog.returnValue === action;
        if (!yes) opener.focus();
        resolve(yes);
      },
      { once: true },
    ),
  );
}

/** Wires a form with per-field error lines: submitting runs `onSubmit` (no navigation); typing in a field clears its mark and its line. */
export function fieldForm(form: HTMLFormElement, onSubmit: () => Promise<void>) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void onSubmit();
  });
  form.addEventListener("input", (e) => {
    const target = e.target as HTMLInputElement;
    target.removeAttribute("aria-invalid");
    if (target.name) form.querySelector(`[data-error-for="${CSS.escape(target.name)}"]`)?.replaceChildren();
  });
}

/** Explains a refused change: a 403 turns the page read-only and says who may `what`; other failures pass as they are. */
export function adminOnly(f: Failure, what: string): Failure {
  if (f.status !== 403) return f;
  becomeReadOnly();
  return { ...f, detail: `Only admins can ${what}: ${f.detail ?? "this action requires the admin or owner role."}` };
}

/**
 * Shows why a form's change failed: nothing more on 401 (the page signed out), a 403 in the page's
 * alert (read-only from now on, see `adminOnly`), anything else on the lines of the fields it names
 * and, for what no line takes, under the form (its `.field-error`).
 */
export function refused(form: HTMLFormElement, err: unknown, what: string) {
  const f = failure(err);
  if (f.status === 401) return;
  if (f.status === 403) return fail(adminOnly(f, what));
  const left = showFieldErrors(form, f.errors ?? []);
  if (left.length || !f.errors?.length) fail(f, must(form.querySelector<HTMLElement>(".field-error"), ".field-error"));
}
