import { escapeXml as e } from "../xml/escape.js";
import type { CaughtMessage } from "./catcher.js";

/** A problem to show in the overlay. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  severity: string;
  reason: string;
}

/** The next issue as the email page shows it. */
export interface EmailView {
  number: number;
  subject: string;
  preheader: string;
  /** The configured one-click unsubscribe URL, as each subscriber's copy has it with their token. */
  unsubscribeUrl: string;
  /** Every header of the sample message, as sent: List-Id, List-Unsubscribe, List-Unsubscribe-Post, Reply-To… */
  headers: Array<{ key: string; line: string }>;
  bytes: number;
  text: string;
}

/** How a frame shows the email: a width, and as a client that blocks images or drops `<style>` would. */
interface Frame {
  width: number;
  label: string;
  query: string;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f4f3ef}header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:#1d1d1f;color:#fff}header a{color:#fff}main{padding:1rem}
.frames{display:flex;gap:1.5rem;flex-wrap:wrap;align-items:flex-start}.frames figure{margin:0}.frames iframe{border:1px solid #ccc;background:#fff;height:900px}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}pre{white-space:pre-wrap;background:#fff;padding:1rem;border:1px solid #ddd;max-width:60rem}
.over{color:#b3261e;font-weight:600}.tabs a{margin-right:1rem}`;

/**
 * The script every preview page carries: it listens for rebuilds and reloads,
 * and shows build problems in an overlay with their file and line.
 */
export const LIVE_SCRIPT = `<script>(() => {
  const show = (problems) => {
    let box = document.getElementById("presswork-overlay");
    if (!problems.length) { if (box) box.remove(); return; }
    if (!box) { box = document.createElement("div"); box.id = "presswork-overlay"; box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:2147483647;background:#2b0b0b;color:#fff;font:14px/1.5 ui-monospace,monospace;padding:1rem 1.25rem;border-top:4px solid #ff5c5c";
      document.body.appendChild(box); }
    box.innerHTML = "<strong>Presswork cannot build this:</strong>";
    for (const p of problems) { const row = document.createElement("div"); row.className = "presswork-problem";
      row.textContent = p.file + ":" + p.line + ":" + p.column + "  " + p.severity + "  " + p.reason; box.appendChild(row); }
  };
  let version = null;
  const events = new EventSource("/_presswork/events");
  events.onmessage = (event) => { const state = JSON.parse(event.data);
    if (version !== null && state.version !== version && state.problems.length === 0) { location.reload(); return; }
    version = state.version; show(state.problems); };
})();</script>`;

/** Adds the live script to an HTML page. */
export function withLiveScript(html: string): string {
  return html.includes("</body>") ? html.replace("</body>", `${LIVE_SCRIPT}</body>`) : html + LIVE_SCRIPT;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(title)}</title><style>${STYLE}</style></head><body>
<header><strong>Presswork preview</strong><a href="/">Site</a><a href="/_presswork/email">Next email</a><a href="/_presswork/issues">Past issues</a><a href="/_presswork/feeds">Feeds</a><a href="/_presswork/inbox">Inbox</a></header>
<main>${body}</main></body></html>`;
}

/**
 * The next issue: frames 320, 375 and 600 px wide, and 375 px as a client
 * that blocks images and one that drops `<style>`, light or dark; its text,
 * every header of the message, the configured unsubscribe URL, and its size
 * against Gmail's limit.
 */
export function emailPage(view: EmailView | undefined, scheme: "light" | "dark"): string {
  if (!view) return page("Next email", "<h1>No issue is due</h1><p>Nothing new since the last issue. Publish an article to see the next one here.</p>");
  const kb = (view.bytes / 1024).toFixed(1);
  const other = scheme === "dark" ? "light" : "dark";
  const frame = ({ width, label, query }: Frame) =>
    `<figure><figcaption>${e(label)}</figcaption><iframe title="The email at ${e(label)}, ${scheme}" width="${width}" src="/_presswork/email/frame?scheme=${scheme}${query}"></iframe></figure>`;
  const frames = [
    { width: 320, label: "320 px", query: "" },
    { width: 375, label: "375 px", query: "" },
    { width: 600, label: "600 px", query: "" },
    { width: 375, label: "375 px, images off", query: "&images=off" },
    { width: 375, label: "375 px, styles stripped", query: "&styles=off" },
  ]
    .map(frame)
    .join("");
  const headers = view.headers.map((h) => `<tr><th>${e(h.line.slice(0, h.line.indexOf(":")))}</th><td>${e(h.line.slice(h.line.indexOf(":") + 1).trim())}</td></tr>`).join("");
  return page(
    `Issue #${view.number}`,
    `<h1>Issue #${view.number}</h1>
<p class="tabs"><a href="#html">HTML</a><a href="#text">Text</a><a href="#headers">Headers</a> · <a id="scheme" href="/_presswork/email?scheme=${other}">Show ${other}</a></p>
<p id="size" class="${view.bytes > 102 * 1024 ? "over" : ""}">${kb} KB of HTML of Gmail's 102 KB before it clips the message.</p>
<section id="html" class="frames" data-scheme="${scheme}">${frames}</section>
<h2 id="text">Text</h2><pre>${e(view.text)}</pre>
<h2 id="headers">Headers</h2><table>
<tr><th>Subject</th><td id="subject">${e(view.subject)}</td></tr>
<tr><th>Preheader</th><td id="preheader">${e(view.preheader)}</td></tr>
<tr><th>Unsubscribe link</th><td id="unsubscribe">${e(view.unsubscribeUrl)} <small>(configured; each copy has its subscriber's token)</small></td></tr></table>
<p>Every header of the message, as sent to the placeholder reader@example.com:</p>
<table id="message-headers">${headers}</table>`,
  );
}

/** Forces the email's dark-mode styles on, for the dark frame. */
export function darken(html: string): string {
  return html.replace(/@media\s*\(prefers-color-scheme:\s*dark\)/g, "@media all");
}

/** The email as a client that drops `<style>` shows it: inline styles alone. */
export function withoutStyles(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/gi, "");
}

/** The email as a client that blocks images shows it: each image's alt text in its place. */
export function imagesOff(html: string): string {
  return html.replace(/<img\b[^>]*>/gi, (tag) => tag.replace(/\s(?:src|srcset)="[^"]*"/gi, ""));
}

/** Links to the published issues and the feeds. */
export function listPage(title: string, links: Array<{ href: string; label: string }>): string {
  return page(title, `<h1>${e(title)}</h1><ul>${links.map((l) => `<li><a href="${e(l.href)}">${e(l.label)}</a></li>`).join("")}</ul>`);
}

/** The catcher's inbox. */
export function inboxPage(messages: readonly CaughtMessage[]): string {
  const rows = [...messages]
    .reverse()
    .map((m) => `<tr><td>${e(m.date)}</td><td>${e(m.to)}</td><td><a class="message" href="/_presswork/inbox/${m.id}">${e(m.subject)}</a></td></tr>`)
    .join("");
  return page(
    "Inbox",
    `<h1>Inbox</h1><p>Messages sent to the preview's SMTP server on 127.0.0.1 land here: <code>SMTP_URL=smtp://127.0.0.1:PORT npx presswork send …</code></p>
<table><tr><th>Date</th><th>To</th><th>Subject</th></tr>${rows || '<tr><td colspan="3">Nothing yet.</td></tr>'}</table>`,
  );
}

/** One caught message: rendered, its headers, its raw source. */
export function messagePage(message: CaughtMessage): string {
  const headers = message.headers.map((h) => `<tr><th>${e(h.key)}</th><td>${e(h.line.slice(h.line.indexOf(":") + 1).trim())}</td></tr>`).join("");
  return page(
    message.subject,
    `<h1>${e(message.subject)}</h1><section class="frames"><iframe title="The message" sandbox width="600" srcdoc="${e(message.html)}"></iframe></section>
<h2>Headers</h2><table>${headers}</table><h2>Text</h2><pre>${e(message.text)}</pre><h2>Source</h2><pre>${e(message.raw)}</pre>`,
  );
}
