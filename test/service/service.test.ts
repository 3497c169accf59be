import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { sql, type Transaction } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressKey, unsubscribeUrl } from "../../src/issues/message.js";
import { confirmToken } from "../../src/issues/tokens.js";
import { DatabaseSink } from "../../src/feedback/store-sink.js";
import { classifyMessage } from "../../src/mailbox/classify.js";
import { senderIdentity } from "../../src/mailbox/identify.js";
import { parseAddress } from "../../src/audience/address.js";
import type { Database } from "../../src/store/schema.js";
import { backends } from "../helpers/databases.js";
import { attr, elements } from "../helpers/html.js";
import { REPO, removeProjects, tempProject } from "../helpers/project.js";
import { API_TOKEN, mailTo, postForm, postJson, SECRET, startService, type RunningService } from "../helpers/service.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";

const LIST = "weekly.signal-noise.example";
const SITE = "https://signal-noise.example";

afterAll(removeProjects);

/** The link in a mail's text that starts with `prefix`. */
function link(text: string | undefined, prefix: string): string {
  const found = (text ?? "").match(/https?:\/\/[^\s<>]+/g)?.find((u) => u.startsWith(prefix));
  if (!found) throw new Error(`no ${prefix} link in: ${text}`);
  return found;
}

async function statusOf(running: RunningService, identity: string): Promise<string | undefined> {
  return (await running.service.store.db.selectFrom("subscribers").select("status").where("identity", "=", identity).executeTakeFirst())?.status;
}

/** A token as Presswork made them before, still in mail sent then. */
function oldToken(address: string): string {
  const mac = createHmac("sha256", SECRET).update(`${address}\n${LIST}`).digest("base64url").slice(0, 32);
  return `${Buffer.from(address).toString("base64url")}.${mac}`;
}

for (const backend of await backends("service tests")) {
  describe(`presswork serve on ${backend.name}`, () => {
    let running: RunningService;
    let smtp: TestSmtp;
    const started: RunningService[] = [];
    const start = async (env: Record<string, string> = {}, root?: string) => {
      const r = await startService({ databaseUrl: await backend.fresh("service"), smtp, env, ...(root ? { root } : {}) });
      started.push(r);
      return r;
    };
    beforeAll(async () => {
      smtp = await startSmtp();
      // Many tests post from one address here; the limit has a test of its own.
      running = await start({ PRESSWORK_SUBSCRIBE_PER_MINUTE: "1000" });
    });
    afterAll(async () => {
      await Promise.all(started.map((r) => r.close()));
      await smtp.close();
      const logs = started.flatMap((r) => r.logs).join("\n");
      // Addresses in logs are masked; tokens never appear.
      expect(logs).not.toMatch(/[a-z0-9]{2,}@example\.(org|com)/i);
      expect(logs).not.toMatch(/token=/);
    });

    it("takes the one-click unsubscribe of a list whose id is as long as RFC 2919 allows (255 characters)", async () => {
      const listId = `${"list-label.".repeat(22)}example.org`.padStart(255, "n");
      const root = await tempProject({ config: (await readFile(join(REPO, "presswork.config.yaml"), "utf8")).replace("listId: weekly.signal-noise.example", `listId: ${listId}`) });
      const long = await start({}, root);
      expect(long.config.newsletter?.listId).toHaveLength(255);
      const target = new URL(unsubscribeUrl(long.config.newsletter!, "long.list@example.org", SECRET));
      const gone = await postForm(`${long.url}${target.pathname}${target.search}`, { "List-Unsubscribe": "One-Click" });
      expect(gone.status).toBe(200);
    });

    it("takes a subscriber from the form through the confirmation mail to the welcome, and out again with one click", async () => {
      const address = "ann.form@example.org";
      const response = await postForm(`${running.url}/subscribe`, { email: address, name: "Ann", form: "footer", wording: "v2" });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("subscribe/thanks");
      const thanks = await fetch(new URL(response.headers.get("location") ?? "", `${running.url}/subscribe`));
      expect(await thanks.text()).toContain("Check your inbox");

      const confirmMail = await mailTo(smtp, address);
      expect(confirmMail.subject).toBe("Confirm your subscription to Signal & Noise Weekly");
      expect(confirmMail.from?.value[0]?.address).toBe("newsletter@signal-noise.example");
      // The name is whatever the form was given beside the address: the confirmation never shows it.
      expect(confirmMail.text).toContain("Hello,");
      expect(`${confirmMail.text} ${String(confirmMail.html)} ${confirmMail.headerLines.map((h) => h.line).join("\n")}`).not.toContain("Ann");
      const confirmUrl = link(confirmMail.text, `${running.url}/confirm?token=`);
      expect(String(confirmMail.html)).toContain(confirmUrl.replaceAll("&", "&amp;"));
      expect(confirmUrl).not.toContain("ann");
      expect(await statusOf(running, address)).toBe("pending");

      // Mail scanners open every link with GET or HEAD: that shows a button and confirms nothing.
      expect((await fetch(confirmUrl, { method: "HEAD" })).status).toBe(200);
      const shown = await fetch(confirmUrl);
      expect(shown.status).toBe(200);
      const button = await shown.text();
      expect(button).toContain("Confirm your subscription");
      expect(elements(button).filter((e) => e.tagName === "form").map((f) => [attr(f, "method"), attr(f, "action")])).toEqual([["post", undefined]]);
      expect(await statusOf(running, address)).toBe("pending");
      // The button posts to the page's own address, the link.
      const confirmed = await fetch(confirmUrl, { method: "POST" });
      expect(confirmed.status).toBe(200);
      expect(await confirmed.text()).toContain("You are subscribed");
      expect(await statusOf(running, address)).toBe("active");
      for (const method of ["GET", "POST"]) {
        const again = await fetch(confirmUrl, { method });
        expect(again.status).toBe(200);
        expect(await again.text()).toContain("already subscribed");
      }

      const welcome = await mailTo(smtp, address, 2);
      expect(welcome.subject).toBe("Welcome to Signal & Noise Weekly");
      expect(welcome.text).toContain("Hello Ann,");
      const headers = new Map(welcome.headerLines.map((h) => [h.key, h.line]));
      expect(headers.get("list-unsubscribe-post")).toBe("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
      const oneClick = /<(https:[^>]+)>/.exec(headers.get("list-unsubscribe") ?? "")?.[1] ?? "";
      expect(oneClick).toBe(unsubscribeUrl(running.config.newsletter!, address, SECRET));
      const path = new URL(oneClick);
      const target = `${running.url}${path.pathname}${path.search}`;

      // Link scanners open every link: a GET shows a button and changes nothing.
      const page = await fetch(target);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("a***@example.org");
      expect(elements(html).filter((e) => e.tagName === "form").map((f) => attr(f, "method"))).toEqual(["post"]);
      expect(await statusOf(running, address)).toBe("active");

      // RFC 8058: a POST with List-Unsubscribe=One-Click, no cookies, answered 200.
      const gone = await postForm(target, { "List-Unsubscribe": "One-Click" });
      expect(gone.status).toBe(200);
      expect(await statusOf(running, address)).toBe("unsubscribed");
      expect((await postForm(target, { "List-Unsubscribe": "One-Click" })).status).toBe(200);
      // The link again (the back button, an older issue's): it says so, and asks nothing.
      const after = await (await fetch(target)).text();
      expect(after).toContain("You are unsubscribed");
      expect(after).not.toContain("Unsubscribe from");
      expect(elements(after).filter((e) => e.tagName === "form")).toEqual([]);
      const history = await running.service.list.history(address);
      expect(history.consents).toEqual([expect.objectContaining({ source: "form:footer", wording: "v2" })]);
      expect(history.events.map((e) => `${e.type}:${e.source}`)).toEqual(["subscribed:form:footer", "confirmed:link", "unsubscribed:one-click"]);
      expect(await statusOf(running, address)).toBe("unsubscribed");

      // Anyone can type the address into the form again, with words of their own: it stays unsubscribed, and
      // only its owner's click on the confirmation brings it back.
      expect((await postForm(`${running.url}/subscribe`, { email: address, name: "Visit cheap-pills.example now" })).status).toBe(303);
      const again = await mailTo(smtp, address, 3);
      expect(again.subject).toBe("Confirm your subscription to Signal & Noise Weekly");
      expect(`${again.text} ${again.headerLines.map((h) => h.line).join("\n")}`).not.toContain("cheap-pills");
      expect(await statusOf(running, address)).toBe("unsubscribed");
      const back = link(again.text, `${running.url}/confirm?token=`);
      expect(await (await fetch(back)).text()).toContain("Confirm your subscription");
      expect(await statusOf(running, address)).toBe("unsubscribed");
      expect((await fetch(back, { method: "POST" })).status).toBe(200);
      expect(await statusOf(running, address)).toBe("active");
      expect((await running.service.store.db.selectFrom("subscribers").select("name").where("identity", "=", address).executeTakeFirst())?.name).toBe("Ann");
    });

    it("mails one mailbox at most three confirmations in the week a link works, however its address is spelled and however the requests are spread", async () => {
      const r = await start({ PRESSWORK_SUBSCRIBE_PER_MINUTE: "1000" });
      const mailbox = (identity: string) => (identity.split("@")[0] ?? "").replaceAll(".", "").replace(/\+.*/, "") === "spread";
      let at = 0;
      for (const hour of [0, 1, 2, 30, 100, 160]) {
        r.advance((hour - at) * 3_600_000);
        at = hour;
        expect((await postForm(`${r.url}/subscribe`, { email: `spr.ead+h${hour}@gmail.com` })).status).toBe(303);
        expect((await postForm(`${r.url}/subscribe`, { email: `sp.r.ead+h${hour}b@gmail.com` })).status).toBe(303);
      }
      const rows = await r.service.store.db.selectFrom("subscribers").select("identity").where("identity", "like", "%@gmail.com").execute();
      expect(rows.filter((row) => mailbox(row.identity))).toHaveLength(3);
      // A week after the first requests (hour 168 is 7 days), the mailbox may ask again.
      r.advance((170 - at) * 3_600_000);
      expect((await postForm(`${r.url}/subscribe`, { email: "spread+later@gmail.com" })).status).toBe(303);
      const later = await r.service.store.db.selectFrom("subscribers").select("identity").where("identity", "like", "%@gmail.com").execute();
      expect(later.filter((row) => mailbox(row.identity))).toHaveLength(4);
    });

    it("counts toward a mailbox's three only the requests that mail it: a double click and a quick retry do not use up the one the page promises after a few minutes", async () => {
      const r = await start({ PRESSWORK_SUBSCRIBE_PER_MINUTE: "1000" });
      const address = "quick.retry@example.org";
      // Submitted, submitted again, and again from the back button a minute later: one mail, its link still works.
      for (const minutes of [0, 0, 1]) {
        r.advance(minutes * 60_000);
        expect((await postForm(`${r.url}/subscribe`, { email: address })).status).toBe(303);
      }
      await mailTo(smtp, address);
      // Nothing came after twenty minutes (a spam folder, a slow filter): asked again, it is mailed again.
      r.advance(20 * 60_000);
      expect((await postForm(`${r.url}/subscribe`, { email: address })).status).toBe(303);
      const second = await mailTo(smtp, address, 2, 10_000);
      expect(second.subject).toBe("Confirm your subscription to Signal & Noise Weekly");
    });

    it("goes on counting a mailbox's requests after a restart of the service and on a second replica of one database", async () => {
      const databaseUrl = await backend.fresh("replicas");
      const first = await startService({ databaseUrl, smtp, env: { PRESSWORK_SUBSCRIBE_PER_MINUTE: "1000" } });
      started.push(first);
      for (const email of ["re.started@gmail.com", "restarted+1@gmail.com"]) expect((await postForm(`${first.url}/subscribe`, { email })).status).toBe(303);
      await first.close();
      // Restarted on the same database, beside a second replica of it: one more confirmation in all, whichever
      // answers, with the requests arriving at once.
      const again = await startService({ databaseUrl, smtp, env: { PRESSWORK_SUBSCRIBE_PER_MINUTE: "1000" } });
      const replica = await startService({ databaseUrl, smtp, env: { PRESSWORK_SUBSCRIBE_PER_MINUTE: "1000" } });
      started.push(again, replica);
      const requests = [[again, "r.estarted@gmail.com"], [replica, "restarted+2@gmail.com"], [again, "restarted+3@gmail.com"], [replica, "restar.ted@gmail.com"]] as const;
      const answers = await Promise.all(requests.map(([r, email]) => postForm(`${r.url}/subscribe`, { email })));
      expect(answers.map((a) => a.status)).toEqual([303, 303, 303, 303]);
      const rows = await again.service.store.db.selectFrom("subscribers").select("identity").execute();
      expect(rows.filter((row) => (row.identity.split("@")[0] ?? "").replaceAll(".", "").replace(/\+.*/, "") === "restarted")).toHaveLength(3);
      // The database keeps no address for a request, only a keyed hash of the mailbox.
      const kept = await again.service.store.db.selectFrom("subscribe_requests").selectAll().execute();
      expect(kept).toHaveLength(3);
      expect(JSON.stringify(kept)).not.toMatch(/restarted|gmail/);
      // Nor anything to link a request to an address's records: once an address is forgotten, its mailbox's requests go too.
      const keys = new Set((await again.service.store.db.selectFrom("subscribers").select("address_key").execute()).map((row) => row.address_key));
      expect(kept.filter((row) => keys.has(row.mailbox_key))).toEqual([]);
      await again.service.list.forget("re.started@gmail.com", new Date());
      expect(await again.service.store.db.selectFrom("subscribe_requests").selectAll().execute()).toEqual([]);
    });

    it("mails one mailbox a few confirmations an hour, however many ways its address is spelled (Gmail's dots, +tags)", async () => {
      const spellings = ["bomb.ed", "b.ombed", "bo.mbed", "bombed+1", "bombed+2", "b.o.m.b.e.d", "BombEd+x", "bombe.d"].map((local) => `${local}@gmail.com`);
      for (const email of spellings) expect((await postForm(`${running.url}/subscribe`, { email })).status).toBe(303);
      // Another mailbox is not held back by this one.
      expect((await postForm(`${running.url}/subscribe`, { email: "bombed.not@gmail.com" })).status).toBe(303);
      const rows = await running.service.store.db.selectFrom("subscribers").select("identity").where("identity", "like", "%@gmail.com").execute();
      const bombed = rows.filter((r) => (r.identity.split("@")[0] ?? "").replaceAll(".", "").replace(/\+.*/, "") === "bombed");
      expect(bombed).toHaveLength(3);
      expect(rows.map((r) => r.identity)).toContain("bombed.not@gmail.com");
    });

    it("gives the welcome mail a List-Unsubscribe mailto with the subscriber's signed token, which the mailbox reader acts on whoever sends it", async () => {
      const address = "mo.mailto@example.org";
      expect((await postForm(`${running.url}/subscribe`, { email: address })).status).toBe(303);
      expect((await fetch(link((await mailTo(smtp, address)).text, `${running.url}/confirm?token=`), { method: "POST" })).status).toBe(200);
      const welcome = await mailTo(smtp, address, 2);
      const header = welcome.headerLines.find((h) => h.key === "list-unsubscribe")?.line ?? "";
      const mailto = new URL(/<(mailto:[^>]+)>/.exec(header)?.[1] ?? "mailto:none");
      // No newsletter.bounces in the sample config: the mailbox may not take tagged addresses, so the token is in the subject.
      expect(mailto.pathname).toBe("unsubscribe@signal-noise.example");
      const subject = mailto.searchParams.get("subject") ?? "";
      expect(subject).toMatch(/^unsubscribe 0\.[0-9a-f]{24}\.[0-9a-f]{12}$/);
      // What a mail program sends for it, here from another address and through a server that authenticates nothing.
      const request = `From: someone.else@example.net\r\nTo: ${mailto.pathname}\r\nSubject: ${subject}\r\nMessage-ID: <welcome-mailto@example.net>\r\n\r\nunsubscribe\r\n`;
      const newsletter = running.config.newsletter!;
      const result = await classifyMessage(Buffer.from(request), { identity: senderIdentity(newsletter, SECRET), now: new Date() });
      expect(result).toMatchObject({ understood: true, summary: "an unsubscribe request (signed)", events: [{ kind: "unsubscribe", recipient: { key: addressKey(address, SECRET), via: "token" } }] });
      expect(result.events[0]).not.toHaveProperty("issue");
      for (const event of result.events) await new DatabaseSink(running.service.list, running.config.feedback).record(event);
      expect(await statusOf(running, address)).toBe("unsubscribed");
    });

    it("answers a subscribe the same whether the address is new, pending or already subscribed", async () => {
      const address = "same.answer@example.org";
      const ask = async () => {
        const r = await postJson(`${running.url}/subscribe`, { email: address });
        return { status: r.status, body: await r.text() };
      };
      const first = await ask();
      const pending = await ask();
      await running.service.list.confirm((await running.service.store.db.selectFrom("subscribers").select("confirm_nonce").where("identity", "=", address).executeTakeFirstOrThrow()).confirm_nonce ?? "", new Date());
      const active = await ask();
      expect(first.status).toBe(202);
      expect(pending).toEqual(first);
      expect(active).toEqual(first);
      expect(JSON.parse(first.body)).toMatchObject({ ok: true });
    });

    it("lets only the site's origin call the JSON endpoint from a page (CORS)", async () => {
      const preflight = await fetch(`${running.url}/subscribe`, { method: "OPTIONS", headers: { origin: SITE, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
      expect(preflight.headers.get("access-control-allow-origin")).toBe(SITE);
      const ours = await postJson(`${running.url}/subscribe`, { email: "cors@example.org" }, { origin: SITE });
      expect(ours.headers.get("access-control-allow-origin")).toBe(SITE);
      const theirs = await postJson(`${running.url}/subscribe`, { email: "cors2@example.org" }, { origin: "https://evil.example" });
      expect(theirs.headers.get("access-control-allow-origin")).toBeNull();
    });

    it("answers a filled honeypot as usual, and stores and mails nothing", async () => {
      const response = await postForm(`${running.url}/subscribe`, { email: "robot@example.org", website: "https://spam.example" });
      expect(response.status).toBe(303);
      await new Promise((r) => setTimeout(r, 500));
      expect(await statusOf(running, "robot@example.org")).toBeUndefined();
      expect(smtp.received.filter((m) => m.to.includes("robot@example.org"))).toHaveLength(0);
    });

    it("unsubscribes with the tokens the send puts in mail, the current ones and those from before, by form or multipart POST", async () => {
      const l = running.service.list;
      const a = "list.current@example.org";
      const b = "list.old@example.org";
      await l.importRows(
        [a, b].map((email, i) => ({ line: i + 2, address: { address: email, identity: email }, status: "active" as const, fields: {} })),
        "import:csv",
        new Date(),
      );
      const current = new URL(unsubscribeUrl(running.config.newsletter!, a, SECRET));
      const multipart = new FormData();
      multipart.append("List-Unsubscribe", "One-Click");
      const r1 = await fetch(`${running.url}/unsubscribe${current.search}`, { method: "POST", body: multipart });
      expect(r1.status).toBe(200);
      expect(await statusOf(running, a)).toBe("unsubscribed");
      const r2 = await postForm(`${running.url}/unsubscribe?list=${LIST}&token=${encodeURIComponent(oldToken(b))}`, { "List-Unsubscribe": "One-Click" });
      expect(r2.status).toBe(200);
      expect(await statusOf(running, b)).toBe("unsubscribed");
      // A token for an address the list never held (mailed from a file) suppresses its keyed hash.
      const c = "from.a.file@example.org";
      const r3 = await postForm(`${running.url}${new URL(unsubscribeUrl(running.config.newsletter!, c, SECRET)).pathname}${new URL(unsubscribeUrl(running.config.newsletter!, c, SECRET)).search}`, { "List-Unsubscribe": "One-Click" });
      expect(r3.status).toBe(200);
      expect((await l.history(c)).suppression?.reason).toBe("unsubscribed");
    });

    it("unsubscribes with one click whatever body the client sends with the link, reading the form's fields where it can", async () => {
      const part = (boundary: string, fields: Array<[string, string]>) => `${fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join("")}--${boundary}--\r\n`;
      const twice = new FormData();
      twice.append("List-Unsubscribe", "One-Click");
      twice.append("List-Unsubscribe", "One-Click");
      const bodies: Array<{ what: string; init: RequestInit; source: string }> = [
        { what: "octet-stream", init: { body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/octet-stream" } }, source: "one-click" },
        { what: "a form sent as JSON", init: { body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/json" } }, source: "one-click" },
        { what: "an empty JSON body", init: { body: "", headers: { "content-type": "application/json" } }, source: "unsubscribe-post" },
        { what: "JSON", init: { body: JSON.stringify({ "List-Unsubscribe": "One-Click" }), headers: { "content-type": "application/json" } }, source: "one-click" },
        { what: "multipart without a boundary", init: { body: part("b0und", [["List-Unsubscribe", "One-Click"]]), headers: { "content-type": "multipart/form-data" } }, source: "one-click" },
        { what: "multipart with a field given twice", init: { body: twice }, source: "one-click" },
        { what: "the page's button", init: { body: new URLSearchParams({ "List-Unsubscribe": "One-Click", from: "page" }) }, source: "unsubscribe-page" },
        { what: "a form past 16 KB", init: { body: new URLSearchParams({ "List-Unsubscribe": "One-Click", padding: "x".repeat(20_000) }) }, source: "one-click" },
        { what: "no body", init: {}, source: "unsubscribe-post" },
      ];
      const members = bodies.map((_, i) => `any.body${i}@example.org`);
      await running.service.list.importRows(members.map((m, i) => ({ line: i + 2, address: { address: m, identity: m }, status: "active" as const, fields: {} })), "import:csv", new Date());
      for (const [i, { what, init, source }] of bodies.entries()) {
        const who = members[i] ?? "";
        const response = await fetch(`${running.url}/unsubscribe${new URL(unsubscribeUrl(running.config.newsletter!, who, SECRET)).search}`, { method: "POST", ...init });
        expect(response.status, what).toBe(200);
        expect(await response.text(), what).toContain("You are unsubscribed");
        expect(await statusOf(running, who), what).toBe("unsubscribed");
        expect((await running.service.list.history(who)).events.filter((e) => e.type === "unsubscribed").map((e) => e.source), what).toEqual([source]);
      }
    });

    it("answers a one-click unsubscribe whose body never ends, once it has read as much as it reads", async () => {
      const who = "endless.body@example.org";
      await running.service.list.add({ address: who, identity: who }, undefined, new Date());
      const url = new URL(`${running.url}/unsubscribe${new URL(unsubscribeUrl(running.config.newsletter!, who, SECRET)).search}`);
      const { request } = await import("node:http");
      const sending = request(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } });
      const answered = new Promise<number | undefined>((resolve, reject) => {
        sending.on("response", (response) => {
          response.resume();
          resolve(response.statusCode);
        });
        sending.on("error", reject);
      });
      // More than the 16 KB read, and then nothing more, and no end: a slow or endless upload.
      sending.write(`List-Unsubscribe=One-Click&padding=${"x".repeat(20_000)}`);
      try {
        expect(await answered).toBe(200);
        expect(await statusOf(running, who)).toBe("unsubscribed");
      } finally {
        sending.destroy();
      }
    });

    it("refuses forged, tampered, malformed and other lists' unsubscribe tokens, changing nothing", async () => {
      const address = "victim@example.org";
      await running.service.list.add({ address, identity: address }, undefined, new Date());
      const good = new URL(unsubscribeUrl(running.config.newsletter!, address, SECRET)).searchParams.get("token") ?? "";
      const [list, key, mac = ""] = good.split(".");
      const forged = [
        `${list}.${key}.${mac.slice(0, -2)}xx`,
        new URL(unsubscribeUrl(running.config.newsletter!, address, "another secret")).searchParams.get("token") ?? "",
        `${list}.${addressKey("someone@example.org", SECRET)}.${mac}`,
        "' OR '1'='1",
        `${list}.${key}.${mac}'; DROP TABLE subscribers; --`,
        "",
      ];
      for (const token of forged) {
        const r = await postForm(`${running.url}/unsubscribe?list=${LIST}&token=${encodeURIComponent(token)}`, { "List-Unsubscribe": "One-Click" });
        expect(r.status, token).toBe(400);
        expect(await r.text()).toContain("not valid");
      }
      const other = await postForm(`${running.url}/unsubscribe?list=other.example.org&token=${encodeURIComponent(good)}`, { "List-Unsubscribe": "One-Click" });
      expect(other.status).toBe(400);
      expect(await other.text()).toContain("another newsletter");
      expect(await statusOf(running, address)).toBe("active");
    });

    it("answers each of many one-click unsubscribes fired at once with its own answer: valid, replayed, forged and unknown", async () => {
      const r = await start();
      const l = r.service.list;
      const members = Array.from({ length: 24 }, (_, i) => `crowd${i}@example.org`);
      await l.importRows(members.map((m, i) => ({ line: i + 2, address: { address: m, identity: m }, status: "active" as const, fields: {} })), "import:csv", new Date());
      const link = (who: string, secret = SECRET) => new URL(unsubscribeUrl(r.config.newsletter!, who, secret)).search;
      const stopped = members.slice(20);
      for (const who of stopped) await l.unsubscribe(addressKey(who, SECRET), "one-click", new Date());
      const before = { ...l.unsubscribes.stats };
      // Each member once, the first eight twice more, four already stopped, four forged, two never listed: in random order.
      const asked = [
        ...members.map((who) => ({ who, search: link(who), expect: 200 })),
        ...members.slice(0, 8).flatMap((who) => [{ who, search: link(who), expect: 200 }, { who, search: link(who), expect: 200 }]),
        ...members.slice(8, 12).map((who) => ({ who, search: link(who, "a forger's secret"), expect: 400 })),
        ...["unlisted1@example.org", "unlisted2@example.org"].map((who) => ({ who, search: link(who), expect: 200 })),
      ].sort(() => Math.random() - 0.5);
      // A transaction holds the list while the burst comes in, as a batch being committed would: what arrives meanwhile waits for the next batch.
      const held = r.service.store.transaction(async (trx) => {
        if (r.service.store.dialect === "postgres") await sql`lock table subscribers in share mode`.execute(trx);
        await new Promise((resolve) => setTimeout(resolve, 500));
      });
      const answers = await Promise.all(
        asked.map(async (a) => {
          const response = await postForm(`${r.url}/unsubscribe${a.search}`, { "List-Unsubscribe": "One-Click" });
          return { status: response.status, body: await response.text() };
        }),
      );
      await held;
      answers.forEach((answer, i) => {
        expect(answer.status, asked[i]?.who).toBe(asked[i]?.expect);
        expect(answer.body).toContain(asked[i]?.expect === 200 ? "You are unsubscribed" : "not valid");
      });
      // Each request's own outcome, as its log line says.
      const outcomes = r.logs.map((line) => /unsubscribe: (\w+) \(one-click\)/.exec(line)?.[1]).filter(Boolean);
      expect(outcomes.filter((o) => o === "unsubscribed")).toHaveLength(20);
      expect(outcomes.filter((o) => o === "already")).toHaveLength(16 + 4);
      expect(outcomes.filter((o) => o === "unknown")).toHaveLength(2);
      const batched = l.unsubscribes.stats;
      expect(batched.requests - before.requests).toBe(asked.filter((a) => a.expect === 200).length);
      // Fewer commits than requests: some were committed together.
      expect(batched.batches - before.batches).toBeLessThan(batched.requests - before.requests);

      for (const who of members) {
        const history = await l.history(who);
        expect(history.subscriber?.status, who).toBe("unsubscribed");
        expect(history.events.filter((e) => e.type === "unsubscribed"), who).toHaveLength(1);
      }
      for (const who of ["unlisted1@example.org", "unlisted2@example.org"]) expect((await l.history(who)).suppression?.reason).toBe("unsubscribed");
      expect(await l.counts()).toMatchObject({ active: 0, unsubscribed: members.length, suppressed: 2 });
    });

    /**
     * Another replica's request for the same subscriber, meeting `request`: a transaction of its own takes
     * the subscriber's row, `request` starts, and once it waits for that row the other makes its `change`
     * and commits. Resolves to the request's response.
     */
    const meeting = async (id: number, change: (trx: Transaction<Database>) => Promise<void>, request: () => Promise<Response>): Promise<Response> => {
      const db = running.service.store.db;
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding = () => {};
      const held = new Promise<void>((resolve) => (holding = resolve));
      const other = db.transaction().execute(async (trx) => {
        await trx.selectFrom("subscribers").select("id").where("id", "=", id).forUpdate().execute();
        holding();
        await released;
        await change(trx);
      });
      await held;
      const response = request();
      // The change is made once the request waits for the row: never before, so the two really meet.
      for (let i = 0; ; i++) {
        const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
        if ((waiting.rows[0]?.n ?? 0) > 0) break;
        if (i > 500) throw new Error("the request never waited for the other transaction");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      release();
      await other;
      return response;
    };
    const queued = async (id: number, kind: "confirm" | "welcome") => (await running.service.store.db.selectFrom("mail_queue").select("id").where("subscriber_id", "=", id).where("kind", "=", kind).execute()).length;

    // Two transactions at once: SQLite runs one write transaction at a time.
    if (backend.name === "PostgreSQL") it("confirms once when two requests of one link meet (a scanner and its reader, two replicas): one welcome mail", async () => {
      const address = "confirmed.twice@example.org";
      await postJson(`${running.url}/subscribe`, { email: address });
      const confirmUrl = link((await mailTo(smtp, address)).text, `${running.url}/confirm?token=`);
      const { id } = await running.service.store.db.selectFrom("subscribers").select("id").where("identity", "=", address).executeTakeFirstOrThrow();
      const at = new Date().toISOString();
      const second = await meeting(
        id,
        async (trx) => {
          await trx.updateTable("subscribers").set({ status: "active", status_at: at, updated_at: at }).where("id", "=", id).execute();
          await trx.insertInto("mail_queue").values({ subscriber_id: id, kind: "welcome", created_at: at, due_at: at, attempts: 0 }).execute();
        },
        () => fetch(confirmUrl, { method: "POST" }),
      );
      expect(second.status).toBe(200);
      expect(await second.text()).toContain("already subscribed");
      expect(await queued(id, "welcome")).toBe(1);
    });

    if (backend.name === "PostgreSQL") it("asks once when two subscribe requests of one address that had left meet (a double submit, two replicas): one confirmation mail", async () => {
      const address = "back.again@example.org";
      const parsed = parseAddress(address);
      if ("reason" in parsed) throw new Error(parsed.reason);
      await running.service.list.add(parsed, undefined, new Date());
      await running.service.list.unsubscribe(addressKey(address, SECRET), "one-click", new Date());
      const { id } = await running.service.store.db.selectFrom("subscribers").select("id").where("identity", "=", address).executeTakeFirstOrThrow();
      const at = new Date().toISOString();
      const second = await meeting(
        id,
        async (trx) => {
          await trx.updateTable("subscribers").set({ status: "pending", confirm_nonce: "other-replica", status_at: at, updated_at: at }).where("id", "=", id).execute();
          await trx.insertInto("mail_queue").values({ subscriber_id: id, kind: "confirm", created_at: at, due_at: at, attempts: 0 }).execute();
        },
        () => postJson(`${running.url}/subscribe`, { email: address }),
      );
      expect(second.status).toBe(202);
      expect(await queued(id, "confirm")).toBe(1);
      // The link the first request sent still works.
      expect((await running.service.store.db.selectFrom("subscribers").select("confirm_nonce").where("id", "=", id).executeTakeFirstOrThrow()).confirm_nonce).toBe("other-replica");
    });

    it("shows a page offering to subscribe again for an expired, a replayed or a forged confirmation link", async () => {
      const address = "late@example.org";
      await postJson(`${running.url}/subscribe`, { email: address });
      const row = await running.service.store.db.selectFrom("subscribers").select("confirm_nonce").where("identity", "=", address).executeTakeFirstOrThrow();
      const nonce = row.confirm_nonce ?? "";
      const expired = confirmToken(nonce, LIST, new Date(Date.now() - 1000), SECRET);
      const r1 = await fetch(`${running.url}/confirm?token=${encodeURIComponent(expired)}`);
      expect(r1.status).toBe(410);
      const body = await r1.text();
      expect(body).toContain("This link has expired");
      expect(elements(body).some((e) => e.tagName === "form" && attr(e, "action") === "/subscribe")).toBe(true);
      const valid = confirmToken(nonce, LIST, new Date(Date.now() + 86_400_000), SECRET);
      const forged = `${valid.slice(0, -3)}abc`;
      for (const method of ["GET", "POST"]) {
        expect((await fetch(`${running.url}/confirm?token=${encodeURIComponent(forged)}`, { method })).status).toBe(400);
        expect((await fetch(`${running.url}/confirm`, { method })).status).toBe(400);
        expect((await fetch(`${running.url}/confirm?token=${encodeURIComponent(expired)}`, { method })).status).toBe(410);
      }
      expect(await statusOf(running, address)).toBe("pending");
      expect((await fetch(`${running.url}/confirm?token=${encodeURIComponent(valid)}`, { method: "POST" })).status).toBe(200);
      await running.service.list.unsubscribe(addressKey(address, SECRET), "one-click", new Date());
      for (const method of ["GET", "POST"]) {
        const replayed = await fetch(`${running.url}/confirm?token=${encodeURIComponent(valid)}`, { method });
        expect(replayed.status).toBe(410);
        expect(await replayed.text()).toContain("can no longer be used");
      }
      expect(await statusOf(running, address)).toBe("unsubscribed");
    });

    it("a confirmation link from more than 7 days ago has expired by the service's clock", async () => {
      const r = await start();
      await postJson(`${r.url}/subscribe`, { email: "slow.reader@example.org" });
      const mail = await mailTo(smtp, "slow.reader@example.org");
      const confirmUrl = link(mail.text, `${r.url}/confirm?token=`);
      r.advance(7 * 86_400_000 + 60_000);
      expect((await fetch(confirmUrl, { method: "POST" })).status).toBe(410);
      expect(await statusOf(r, "slow.reader@example.org")).toBe("pending");
    });

    it("an expired confirmation link of a subscription it confirmed in time says it is confirmed, not to subscribe again (which would mail nothing)", async () => {
      const r = await start();
      await postJson(`${r.url}/subscribe`, { email: "prompt.reader@example.org" });
      const confirmUrl = link((await mailTo(smtp, "prompt.reader@example.org")).text, `${r.url}/confirm?token=`);
      expect((await fetch(confirmUrl, { method: "POST" })).status).toBe(200);
      r.advance(8 * 86_400_000);
      for (const method of ["GET", "POST"]) {
        const again = await fetch(confirmUrl, { method });
        expect(again.status, method).toBe(200);
        const body = await again.text();
        expect(body).toContain("already subscribed");
        expect(body).not.toContain("This link has expired");
      }
      expect(await statusOf(r, "prompt.reader@example.org")).toBe("active");
    });

    it("refuses malformed, huge and unknown input with a clear error", async () => {
      const url = `${running.url}/subscribe`;
      const bad = async (init: RequestInit) => {
        const r = await fetch(url, { method: "POST", ...init });
        return { status: r.status, body: await r.text() };
      };
      expect(await bad({ body: "{not json", headers: { "content-type": "application/json" } })).toMatchObject({ status: 400 });
      expect(await bad({ body: JSON.stringify({ email: "a@example.org", admin: true }), headers: { "content-type": "application/json" } })).toEqual({ status: 400, body: JSON.stringify({ error: 'Unknown field "admin".' }) });
      expect(await bad({ body: JSON.stringify({ name: "x" }), headers: { "content-type": "application/json" } })).toEqual({ status: 400, body: JSON.stringify({ error: 'The field "email" is missing.' }) });
      expect(await bad({ body: JSON.stringify({ email: ["a@example.org"] }), headers: { "content-type": "application/json" } })).toMatchObject({ status: 400 });
      expect(await bad({ body: "email=a@example.org&email=b@example.org", headers: { "content-type": "application/x-www-form-urlencoded" } })).toMatchObject({ status: 400 });
      expect(await bad({ body: JSON.stringify({ email: "not an address" }), headers: { "content-type": "application/json" } })).toMatchObject({ status: 400, body: expect.stringContaining("not an email address") });
      expect(await bad({ body: JSON.stringify({ email: "a@example.org", name: "two\nlines" }), headers: { "content-type": "application/json" } })).toMatchObject({ status: 400, body: expect.stringContaining("one line") });
      expect(await bad({ body: JSON.stringify({ email: `${"a".repeat(400)}@example.org` }), headers: { "content-type": "application/json" } })).toMatchObject({ status: 400, body: expect.stringContaining("too long") });
      expect(await bad({ body: "<email>x</email>", headers: { "content-type": "application/xml" } })).toMatchObject({ status: 415 });
      // A form posted with enctype="text/plain" is told how to post, not that "(the whole body)" must be an object.
      expect(await bad({ body: "email=x", headers: { "content-type": "text/plain" } })).toMatchObject({ status: 400, body: expect.stringContaining("is not a form: send it as application/x-www-form-urlencoded") });
      const huge = await bad({ body: JSON.stringify({ email: "a@example.org", name: "x".repeat(17 * 1024) }), headers: { "content-type": "application/json" } });
      expect(huge.status).toBe(413);
      const hugeForm = await bad({ body: `email=a%40example.org&name=${"x".repeat(20_000)}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(hugeForm.status).toBe(413);
      const withFile = new FormData();
      withFile.append("email", "a@example.org");
      withFile.append("website", new Blob(["x"]), "x.txt");
      expect(await bad({ body: withFile })).toMatchObject({ status: 400, body: expect.stringContaining("Files are not accepted") });
      const multipart = (fields: Array<[string, string]>) => {
        const form = new FormData();
        for (const [name, value] of fields) form.append(name, value);
        return form;
      };
      expect(await bad({ body: multipart([["email", "a@example.org"], ["email", "b@example.org"]]) })).toMatchObject({ status: 400, body: expect.stringContaining("given twice") });
      expect(await bad({ body: multipart([["email", "a@example.org"], ...Array.from({ length: 25 }, (_, i): [string, string] => [`f${i}`, "x"])]) })).toMatchObject({ status: 413 });
      expect(await bad({ body: multipart([["email", "a@example.org"], ["name", "x".repeat(5000)]]) })).toMatchObject({ status: 413 });
      expect(await bad({ body: multipart([["email", "a@example.org"], ["name", "x".repeat(20_000)]]) })).toMatchObject({ status: 413 });
      expect(await bad({ body: "--x\r\n", headers: { "content-type": "multipart/form-data" } })).toMatchObject({ status: 400, body: expect.stringContaining("boundary") });
      expect(await bad({ body: "no parts here", headers: { "content-type": "multipart/form-data; boundary=x" } })).toMatchObject({ status: 400 });
      // A form sent as multipart subscribes like any other.
      expect((await fetch(url, { method: "POST", body: multipart([["email", "multipart.form@example.org"]]), redirect: "manual" })).status).toBe(303);
      expect(await statusOf(running, "multipart.form@example.org")).toBe("pending");
      // A form shows the error on the page, with what was typed.
      const form = await postForm(url, { email: "oops" });
      expect(form.status).toBe(400);
      const page = await form.text();
      expect(page).toContain("That is not an email address");
      expect(elements(page).find((e) => attr(e, "id") === "email")?.attrs.find((a) => a.name === "value")?.value).toBe("oops");
      // So does one the schema refuses: a name longer than the service keeps.
      const long = await postForm(url, { email: "long.name@example.org", name: "x".repeat(210) });
      expect(long.status).toBe(400);
      const longPage = await long.text();
      expect(longPage).toMatch(/The field (&quot;|&#34;)name(&quot;|&#34;) is too long \(at most 200\)/);
      expect(elements(longPage).find((e) => attr(e, "id") === "email")?.attrs.find((a) => a.name === "value")?.value).toBe("long.name@example.org");
      expect((await fetch(`${running.url}/nowhere`)).status).toBe(404);
      expect(await statusOf(running, "a@example.org")).toBeUndefined();
    });

    it("refuses an address with a control or bidi character, from the form, JSON and the events API, and stores nothing", async () => {
      // Stored as given, nodemailer would have written "To: ctlx@example.org", and PostgreSQL text cannot hold NUL.
      for (const [email, code] of [["ctl\u0000x\u0007@example.org", "0000"], ["reader\u202egro.elpmaxe@example.org", "202E"]] as const) {
        const reason = `the address has a control or invisible formatting character (U+${code}), which an address cannot have`;
        const json = await postJson(`${running.url}/subscribe`, { email });
        expect(json.status).toBe(400);
        expect(await json.json()).toEqual({ error: `That is not an email address: ${reason}.` });
        const form = await postForm(`${running.url}/subscribe`, { email });
        expect(form.status).toBe(400);
        expect(await form.text()).toContain(`That is not an email address: ${reason}.`);
        const events = await postJson(`${running.url}/api/events`, { events: [{ id: `control-${code}`, type: "bounced", bounce: "hard", email }] }, { authorization: `Bearer ${API_TOKEN}` });
        expect(events.status).toBe(400);
        expect(await events.json()).toEqual({ error: `events[0].email: ${reason}` });
      }
      const stored = await running.service.store.db.selectFrom("subscribers").select("identity").where((eb) => eb.or([eb("identity", "like", "ctl%"), eb("identity", "like", "reader%elpmaxe%")])).execute();
      expect(stored).toEqual([]);
    });

    it("takes an address typed with a combining mark and with the composed letter as one subscriber", async () => {
      for (const email of ["ma\u0308rta@example.org", "m\u00e4rta@example.org"]) expect((await postJson(`${running.url}/subscribe`, { email })).status).toBe(202);
      const rows = await running.service.store.db.selectFrom("subscribers").select("identity").where("identity", "like", "m%rta@example.org").execute();
      expect(rows.map((r) => r.identity)).toEqual(["m\u00e4rta@example.org"]);
    });

    it("keeps SQL metacharacters in every field as data", async () => {
      const address = "o'brien--%_@example.org";
      const name = "Robert'); DROP TABLE subscribers; --";
      const r = await postJson(`${running.url}/subscribe`, { email: address, name, form: "x;--", wording: "1'--" }, { "x-forwarded-for": "192.0.2.200" });
      // ' is not allowed in form and wording names: refused before any SQL.
      expect(r.status).toBe(400);
      const ok = await postJson(`${running.url}/subscribe`, { email: address, name, form: "footer" }, { "x-forwarded-for": "192.0.2.200" });
      expect(ok.status).toBe(202);
      const row = await running.service.store.db.selectFrom("subscribers").select(["email", "name"]).where("identity", "=", address).executeTakeFirst();
      expect(row).toEqual({ email: address, name });
      expect((await fetch(`${running.url}/confirm?token=${encodeURIComponent("x' OR 1=1; --")}`)).status).toBe(400);
      expect((await fetch(`${running.url}/api/subscribers?status=${encodeURIComponent("active' OR '1'='1")}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(400);
      const events = await postJson(`${running.url}/api/events`, { events: [{ id: "'; DELETE FROM events; --", type: "bounced", bounce: "soft", email: address, detail: "550 '; DROP TABLE x" }] }, { authorization: `Bearer ${API_TOKEN}` });
      expect(await events.json()).toEqual({ recorded: 1, duplicates: 0 });
      expect((await running.service.list.counts()).pending).toBeGreaterThan(0);
    });

    it("limits subscribe requests per client address: of 100 in a second from one client, 10 go through", async () => {
      const r = await start();
      const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => postJson(`${r.url}/subscribe`, { email: `burst${i}@example.org` }, { "x-forwarded-for": "198.51.100.23" })));
      const codes = responses.map((x) => x.status);
      expect(codes.filter((c) => c === 202)).toHaveLength(10);
      expect(codes.filter((c) => c === 429)).toHaveLength(90);
      const limited = responses.find((x) => x.status === 429);
      expect(limited?.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await limited?.json()).toEqual({ error: "Too many requests from your address. Please wait a minute and try again." });
      // Another client is not held back; one-click unsubscribes are never limited.
      expect((await postJson(`${r.url}/subscribe`, { email: "other.client@example.org" }, { "x-forwarded-for": "198.51.100.24" })).status).toBe(202);
      expect((await r.service.list.counts()).pending).toBe(11);
    });

    it("warns once when X-Forwarded-For comes from a peer PRESSWORK_TRUST_PROXY does not name, and not when it comes from a trusted proxy", async () => {
      const told = (r: RunningService) => r.logs.filter((line) => line.includes("X-Forwarded-For"));
      // Docker's published port on 127.0.0.1 reaches the container from the bridge gateway, outside 10.0.0.0/8: the header is ignored.
      for (const [setting, said] of [["10.0.0.0/8", "it is 10.0.0.0/8"], ["", "it is unset"]] as const) {
        const r = await start({ PRESSWORK_TRUST_PROXY: setting });
        for (const client of ["198.51.100.7", "198.51.100.8", "198.51.100.9"]) expect((await fetch(`${r.url}/subscribe`, { headers: { "x-forwarded-for": client } })).status).toBe(200);
        expect(told(r), setting).toHaveLength(1);
        const line = JSON.parse(told(r)[0] ?? "{}") as { level: number; msg: string };
        expect(line.level).toBe(40);
        expect(line.msg).toContain("X-Forwarded-For came from 127.0.0.1, a peer PRESSWORK_TRUST_PROXY does not name");
        expect(line.msg).toContain(said);
      }
      // `running` trusts loopback: the same requests name their clients, and nothing is said.
      for (const client of ["198.51.100.7", "198.51.100.8"]) expect((await fetch(`${running.url}/subscribe`, { headers: { "x-forwarded-for": client } })).status).toBe(200);
      expect(told(running)).toEqual([]);
    });

    it("streams the active list as JSON Lines to the bearer of the API token, and records reported events once", async () => {
      const r = await start();
      const rows = Array.from({ length: 2500 }, (_, i) => ({ line: i + 2, address: { address: `api${i}@example.org`, identity: `api${i}@example.org` }, name: i % 2 ? `Reader ${i}` : undefined, status: (i % 5 === 0 ? "unsubscribed" : "active") as "active" | "unsubscribed", fields: { plan: i % 3 ? "free" : "paid" } }));
      await r.service.list.importRows(rows, "import:csv", new Date());
      expect((await fetch(`${r.url}/api/subscribers`)).status).toBe(401);
      expect((await fetch(`${r.url}/api/subscribers`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      const response = await fetch(`${r.url}/api/subscribers`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
      const lines = (await response.text()).trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
      expect(lines).toHaveLength(2000);
      expect(lines[0]).toEqual({ plan: "free", email: "api1@example.org", name: "Reader 1", status: "active" });
      expect(lines.every((l) => l["status"] === "active")).toBe(true);

      const auth = { authorization: `Bearer ${API_TOKEN}` };
      const batch = { events: [{ id: "ledger-7-api1", type: "bounced", bounce: "hard", email: "api1@example.org", issue: 7, detail: "550 5.1.1 <api1@example.org> unknown" }, { id: "ledger-7-api2", type: "complained", key: addressKey("api2@example.org", SECRET) }] };
      expect(await (await postJson(`${r.url}/api/events`, batch, auth)).json()).toEqual({ recorded: 2, duplicates: 0 });
      expect(await (await postJson(`${r.url}/api/events`, batch, auth)).json()).toEqual({ recorded: 0, duplicates: 2 });
      expect(await statusOf(r, "api1@example.org")).toBe("bounced");
      expect(await statusOf(r, "api2@example.org")).toBe("complained");
      const history = await r.service.list.history("api1@example.org");
      expect(history.events.at(-1)).toMatchObject({ type: "bounced", bounce: "hard", issue: 7, source: "api", detail: "550 5.1.1 <a***@example.org> unknown" });
      const bad = await postJson(`${r.url}/api/events`, { events: [{ id: "x", type: "bounced", email: "nope" }] }, auth);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: "events[0].email: an address needs a part before and after one @" });
      expect((await postJson(`${r.url}/api/events`, { events: [{ id: "x", type: "subscribed", email: "a@example.org" }] }, auth)).status).toBe(400);
      const off = await start({ PRESSWORK_API_TOKEN: "" });
      expect((await fetch(`${off.url}/api/subscribers`, { headers: { authorization: "Bearer " } })).status).toBe(503);
    });

    it("answers /healthz, serves its stylesheet and sends the security headers", async () => {
      const health = await fetch(`${running.url}/healthz`);
      expect(await health.json()).toEqual({ status: "ok" });
      const css = await fetch(`${running.url}/assets/style.css`);
      expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
      const page = await fetch(`${running.url}/subscribe`);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(page.headers.get("referrer-policy")).toBe("no-referrer");
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      const html = await page.text();
      const inputs = elements(html).filter((e) => e.tagName === "input").map((e) => attr(e, "name"));
      expect(inputs).toEqual(["email", "name", "website", "form", "wording"]);
    });
  });
}
