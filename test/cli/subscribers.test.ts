import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { detect } from "../../src/audience/export-format.js";
import { readExport } from "../../src/audience/imports.js";
import { readSubscribers } from "../../src/audience/source.js";
import { openStore } from "../../src/store/database.js";
import { SubscriberList } from "../../src/store/subscribers.js";
import { exportLines, importFile } from "../../src/store/transfer.js";
import { runCliHere } from "../helpers/cli.js";
import { backends } from "../helpers/databases.js";
import { put, REPO, removeProjects, tempProject } from "../helpers/project.js";

const FIXTURES = join(REPO, "test/fixtures/imports");
const SECRET = "subscribers-cli-secret";
const LIST = "weekly.signal-noise.example";
afterAll(removeProjects);

/** Every row a reader gives, read to its end (or its error). */
async function all<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const read: T[] = [];
  for await (const row of rows) read.push(row);
  return read;
}

describe("reading other services' exports", () => {
  it("tells Mailchimp, Substack, Buttondown and Presswork's own CSV apart by their columns", () => {
    expect(detect(["Email Address", "First Name", "Last Name", "OPTIN_TIME", "CONFIRM_TIME", "LEID", "EUID"])).toBe("mailchimp");
    expect(detect(["email", "active_subscription", "expiry", "email_disabled", "created_at"])).toBe("substack");
    expect(detect(["id", "email", "creation_date", "subscriber_type", "tags"])).toBe("buttondown");
    expect(detect(["id", "email_address", "creation_date", "type"])).toBe("buttondown");
    expect(detect(["email", "name", "status"])).toBe("presswork");
    expect(detect(["id", "email", "name", "note", "subscribed_to_emails", "complimentary_plan", "stripe_customer_id", "created_at", "deleted_at", "labels", "tiers"])).toBe("ghost");
    // Newer Ghost exports have Substack's email_disabled column too.
    expect(detect(["id", "email", "name", "note", "subscribed_to_emails", "complimentary_plan", "stripe_customer_id", "created_at", "deleted_at", "labels", "tiers", "email_disabled"])).toBe("ghost");
    expect(detect(["uuid", "email", "name", "attributes", "status", "created_at", "updated_at"])).toBe("listmonk");
    expect(detect(["Name", "Email", "Joined", "Last activity", "Added via", "Opt-in method", "IP address", "Country", "Country code", "Signed up from", "Status", "GDPR"])).toBe("sendy");
    expect(detect(["email", "First Name", "Last Name", "status", "tier", "created_at", "unsubscribed_at"])).toBe("beehiiv");
  });

  it("reads Sendy's export: a complaint (Marked as spam) and a bounce stay stopped, an unconfirmed row is skipped, an unknown status is a bad row", async () => {
    const rows = await all(readExport(join(FIXTURES, "sendy.csv")));
    expect(rows.map((r) => ("reason" in r ? `${r.line}: ${r.reason}` : "skipped" in r ? `${r.line}: ${r.skipped}` : `${r.email}:${r.status}:${r.name ?? ""}:${r.ip ?? ""}`))).toEqual([
      "ann@example.org:active:Ann Lee:192.0.2.10",
      "bo@example.org:unsubscribed:Bo:",
      "cy@example.org:bounced::",
      "lea@example.org:complained:Lea:",
      "6: never confirmed at Sendy",
      "7: Status is not Active, Unsubscribed, Bounced, Marked as spam or Unconfirmed",
    ]);
  });

  it("reads beehiiv's export: inactive is unsubscribed at its time, pending is skipped, the name is first and last, created_at written with UTC is the subscription", async () => {
    const rows = await all(readExport(join(FIXTURES, "beehiiv.csv")));
    expect(rows).toEqual([
      { line: 2, email: "ann@example.org", status: "active", name: "Ann Lee", subscribedAt: new Date("2023-03-24T10:23:10Z"), fields: { tier: "free", utm_source: "twitter" } },
      { line: 3, email: "bo@example.org", status: "unsubscribed", name: "Bo", subscribedAt: new Date("2023-01-02T08:00:00Z"), stoppedAt: new Date("2024-06-01T12:00:00Z"), fields: { tier: "premium" } },
      { line: 4, skipped: "never confirmed at beehiiv" },
    ]);
  });

  it("reads a Substack export that German Excel saved: semicolons between the columns, WAHR and FALSCH", async () => {
    const path = join(await tempProject(), "substack-de.csv");
    await put(path, "email;active_subscription;expiry;email_disabled;created_at\r\nsol@example.org;FALSCH;;FALSCH;2022-08-27T15:06:27.713Z\r\nquiet@example.org;FALSCH;;WAHR;2021-12-19T08:03:04.977Z\r\n");
    const rows = await all(readExport(path));
    expect(rows.map((r) => ("email" in r ? `${r.email}:${r.status}` : JSON.stringify(r)))).toEqual(["sol@example.org:active", "quiet@example.org:unsubscribed"]);
  });

  it("reads a service's columns whatever the case of their names, as it tells the service by them", async () => {
    const path = join(await tempProject(), "members.csv");
    await put(path, "id,Email,Name,note,Subscribed_To_Emails,created_at\n1,ann@example.org,Ann,,true,2024-01-02T03:04:05.000Z\n2,bo@example.org,Bo,,false,2024-01-02T03:04:05.000Z\n");
    const rows = await all(readExport(path));
    expect(rows.map((r) => ("email" in r ? `${r.email}:${r.status}:${r.name ?? ""}` : JSON.stringify(r)))).toEqual(["ann@example.org:active:Ann", "bo@example.org:unsubscribed:Bo"]);
  });

  it("reads Ghost's members export: members who turned email off are unsubscribed, disabled email is a bounce, an unreadable flag is a bad row", async () => {
    const rows = await all(readExport(join(FIXTURES, "ghost.csv")));
    expect(rows).toEqual([
      { line: 2, email: "ines@example.org", name: "Ines Roth", status: "active", subscribedAt: new Date("2023-04-02T08:00:00.000Z"), fields: { complimentary_plan: "false", labels: "Newsletter,Early readers" } },
      { line: 3, email: "olaf@example.org", name: "Olaf Berg", status: "unsubscribed", subscribedAt: new Date("2022-01-10T12:30:00.000Z"), fields: { complimentary_plan: "false" } },
      { line: 4, email: "paula@example.org", name: "Paula Nunes", status: "unsubscribed", subscribedAt: new Date("2021-06-01T09:00:00.000Z"), fields: { complimentary_plan: "false", tiers: "Supporter" } },
      { line: 5, email: "rene@example.org", status: "bounced", subscribedAt: new Date("2023-09-15T17:45:12.000Z"), fields: { complimentary_plan: "false" } },
      { line: 6, reason: "subscribed_to_emails is not true or false (nor TRUE, FALSE, 1, 0, yes or no)" },
    ]);
  });

  it("reads listmonk's subscriber export only when named, since it does not say who unsubscribed from a list", async () => {
    const read = async (format?: "listmonk") => {
      const rows = await all(readExport(join(FIXTURES, "listmonk.csv"), format));
      return rows;
    };
    await expect(read()).rejects.toThrow(/listmonk\.csv: a listmonk subscriber export does not say who unsubscribed from a list .* import that file with --format listmonk; nothing was imported/);
    expect(await read("listmonk")).toEqual([
      { line: 2, email: "anna@example.org", name: "Anna Iyer", status: "active", subscribedAt: new Date("2023-02-01T04:30:00.123Z"), fields: { attributes: '{"city": "Bengaluru"}' } },
      { line: 3, email: "blocked@example.org", name: "Bo", status: "unsubscribed", subscribedAt: new Date("2022-11-05T08:30:00Z"), fields: { attributes: "{}" } },
      { line: 4, skipped: "disabled at listmonk" },
    ]);
  });

  it("refuses a --format whose columns the file does not have: read as another service's, everyone who stopped there came back active", async () => {
    const read = async (file: string, format: "substack" | "buttondown" | "ghost") => {
      const rows = await all(readExport(join(FIXTURES, file), format));
      return rows;
    };
    await expect(read("substack.csv", "buttondown")).rejects.toThrow(/substack\.csv: --format buttondown was given, but the header is not a Buttondown subscriber export's: it is a Substack subscriber export, .* import it without --format; nothing was imported/);
    await expect(read("buttondown.csv", "substack")).rejects.toThrow(/buttondown\.csv: --format substack was given, but the header is not a Substack subscriber export's: it is a Buttondown subscriber export/);
    await expect(read("presswork.csv", "ghost")).rejects.toThrow(/presswork\.csv: --format ghost was given, but the header is not a Ghost members export's, .* import it without --format, which reads it as Presswork's own list \(email, name, status\); nothing was imported/);
    // The right name is taken as before.
    expect((await read("substack.csv", "substack")).length).toBeGreaterThan(0);
  });

  it("refuses a CSV it does not know whose header has a column like a subscription state and no status, naming the column and the file", async () => {
    const root = await tempProject();
    for (const [file, header, column] of [
      ["members.csv", "Email,Name,Subscribed", "Subscribed"],
      ["optout.csv", "email,name,subscribed_at,opt_out", "opt_out"],
      ["bounces.csv", "email,name,hard_bounce", "hard_bounce"],
    ] as const) {
      await put(join(root, file), `${header}\nann@example.org,Ann,false\n`);
      const rows = async () => {
        for await (const _ of readExport(join(root, file))) return;
      };
      await expect(rows(), file).rejects.toThrow(`${join(root, file)}: the header has no status column, but its column "${column}" looks like a subscription state`);
      // The send reads such a list the same way: it mailed everyone on it, those marked as having stopped too.
      const sent = async () => {
        for await (const _ of readSubscribers({ file: join(root, file) })) return;
      };
      await expect(sent(), file).rejects.toThrow(`${join(root, file)}: the header has no status column, but its column "${column}" looks like a subscription state`);
    }
    // JSON is held to the same rule: a list whose subscribers have such a key and no status is refused whole, for the send
    // and the import alike (a JSON array by any element, JSON Lines by its first, as by a header), before anyone is read.
    const stateless = (key: string) => `the subscriber has no status, but its key "${key}" looks like a subscription state`;
    await put(join(root, "state.jsonl"), '\n{"email":"ann@example.org","subscribed":true}\n{"email":"bo@example.org","subscribed":false}\n');
    await put(join(root, "state.json"), '[\n  {"email": "bo@example.org", "note": "a, b [c] {d} \\"e\\""},\n  "just text",\n  {\n    "email": "ann@example.org",\n    "Unsubscribed": "yes"\n  }\n]\n');
    await expect(all(readSubscribers({ file: join(root, "state.jsonl") }))).rejects.toThrow(`${join(root, "state.jsonl")}:2: ${stateless("subscribed")}`);
    await expect(all(readExport(join(root, "state.jsonl")))).rejects.toThrow(`${join(root, "state.jsonl")}:2: ${stateless("subscribed")}`);
    // Named by the line its element starts on, as a CSV row is.
    await expect(all(readSubscribers({ file: join(root, "state.json") }))).rejects.toThrow(`${join(root, "state.json")}:4: ${stateless("Unsubscribed")}`);
    // A status says it all; a later JSON Lines row without one is a row to fix, never an active subscriber.
    await put(join(root, "hand.jsonl"), '{"email":"bo@example.org","status":"active","subscribed":true}\n{"email":"ann@example.org","subscribed":false}\n{"email":"cy@example.org"}\n');
    const listed = [];
    for await (const row of readSubscribers({ file: join(root, "hand.jsonl") })) listed.push(row);
    expect(listed).toEqual([
      { line: 1, email: "bo@example.org", status: "active", fields: { subscribed: "true" } },
      { line: 2, reason: expect.stringContaining('no status, but "subscribed" looks like a subscription state') },
      { line: 3, email: "cy@example.org", fields: {} },
    ]);
    await put(join(root, "lines.json"), '[\n  {"email": "bo@example.org", "note": "a, b [c] {d} \\"e\\""},\n  "just text",\n  {\n    "email": "ann@example.org"\n  }\n]\n');
    const elements = [];
    for await (const row of readSubscribers({ file: join(root, "lines.json") })) elements.push(row);
    expect(elements).toEqual([
      { line: 2, email: "bo@example.org", fields: { note: 'a, b [c] {d} "e"' } },
      { line: 3, reason: "not an object with an email field" },
      { line: 4, email: "ann@example.org", fields: {} },
    ]);
    // A time of signing up is no state, and a status column says it all.
    await put(join(root, "plain.csv"), "email,name,subscribed_at,opt_in_ip\nann@example.org,Ann,2024-01-01,192.0.2.1\n");
    await put(join(root, "status.csv"), "email,name,status,unsubscribed_at\nann@example.org,Ann,unsubscribed,2024-01-01\n");
    for (const file of ["plain.csv", "status.csv"]) {
      const rows = await all(readExport(join(root, file)));
      expect(rows, file).toHaveLength(1);
    }
  });

  it("names a malformed CSV's line and csv-parse's error code, never the field it stopped at, for import and send alike", async () => {
    const root = await tempProject();
    const cases = [
      ["opening.csv", 'email,name\nann@example.org,Ann\nsecret.person@example.org "Sec",Sec\n', ":3: the CSV is malformed: a quote in the middle of a field (INVALID_OPENING_QUOTE)"],
      ["mailchimp.csv", 'Email Address,OPTIN_TIME\nsecret.person@example.org "Sec",2024-01-01 00:00:00\n', ":2: the CSV is malformed: a quote in the middle of a field (INVALID_OPENING_QUOTE)"],
      ["closing.csv", 'email,name\n"secret.person@example.org"x,Sec\n', ":2: the CSV is malformed: text right after a field's closing quote (CSV_INVALID_CLOSING_QUOTE)"],
      // Reported where the quote opens, not at the end of the file.
      ["unclosed.csv", 'email,name\nann@example.org,Ann\n"secret.person@example.org,Sec\nbo@example.org,Bo\ncy@example.org,Cy\n', ":3: the CSV is malformed: a quoted field is never closed (CSV_QUOTE_NOT_CLOSED)"],
    ] as const;
    for (const [file, text, message] of cases) {
      await put(join(root, file), text);
      const imported = async () => {
        for await (const _ of readExport(join(root, file)));
      };
      const error = await imported().catch((e: unknown) => e as Error);
      expect(error?.message, file).toBe(`${join(root, file)}${message}; nothing was imported`);
      if (file === "mailchimp.csv") continue;
      const sent = async () => {
        for await (const _ of readSubscribers({ file: join(root, file) }));
      };
      const refused = await sent().catch((e: unknown) => e as Error);
      expect(refused?.message, file).toBe(`${join(root, file)}${message}`);
    }
  });

  it("says where a JSON list is broken without quoting the text around it", async () => {
    const root = await tempProject();
    for (const [file, text, message] of [
      ["token.json", '["secret@x.io", x]', ": not valid JSON (Unexpected token 'x')"],
      ["comma.json", '[\n{"email": "ann@example.org"},\n{"email": "secret.person@example.org" "name": "Sec"}\n]', ":3: not valid JSON (Expected ',' or '}' after property value in JSON at position"],
    ] as const) {
      await put(join(root, file), text);
      const sent = async () => {
        for await (const _ of readSubscribers({ file: join(root, file) }));
      };
      const refused = await sent().catch((e: unknown) => e as Error);
      expect(refused?.message.startsWith(`${join(root, file)}${message}`), refused?.message).toBe(true);
      expect(refused?.message, file).not.toContain("secret");
    }
  });

  it("refuses another service's export as a list to send to: it must be imported first", async () => {
    for (const file of ["ghost.csv", "substack.csv", "mailchimp-subscribed.csv", "buttondown.csv", "listmonk.csv"]) {
      const rows = async () => {
        for await (const _ of readSubscribers({ file: join(FIXTURES, file) })) return;
      };
      await expect(rows(), file).rejects.toThrow(/: this is a (Ghost|Substack|Mailchimp|Buttondown|listmonk) .*export, .* run `presswork subscribers import` first .* then send with --subscribers db; nothing was read from it/);
    }
    const forced = async () => {
      for await (const _ of readExport(join(FIXTURES, "listmonk.csv"), "presswork")) return;
    };
    await expect(forced()).rejects.toThrow("listmonk.csv: this is a listmonk subscriber export");
    const rows = await all(readSubscribers({ file: join(FIXTURES, "presswork.csv") }));
    expect(rows).toHaveLength(3);
  });

  it("reads Mailchimp's subscribed, unsubscribed and cleaned files with names, opt-in times and IPs", async () => {
    const rows = (await Promise.all(["mailchimp-subscribed.csv", "mailchimp-unsubscribed.csv", "mailchimp-cleaned.csv"].map((file) => all(readExport(join(FIXTURES, file)))))).flat();
    expect(rows[0]).toEqual({
      line: 2,
      email: "mara@example.org",
      name: "Mara Lind",
      status: "active",
      subscribedAt: new Date("2024-03-01T09:15:00Z"),
      confirmedAt: new Date("2024-03-01T09:17:41Z"),
      ip: "192.0.2.10",
      fields: { Company: "Lind Tools", TAGS: '"Readers"' },
    });
    expect(rows[3]).toMatchObject({ email: "ulla@example.org", status: "unsubscribed", stoppedAt: new Date("2024-06-30T21:13:09Z") });
    expect(rows[4]).toMatchObject({ email: "gone@example.org", status: "bounced", stoppedAt: new Date("2023-09-09T09:09:09Z") });
  });

  it("skips every row of Mailchimp's nonsubscribed file, whose columns are the subscribed file's, saying why", async () => {
    const rows = await all(readExport(join(FIXTURES, "nonsubscribed_email_audience_export_4f2a9c1b7e.csv")));
    expect(rows).toEqual([
      { line: 2, skipped: "a nonsubscribed contact at Mailchimp: never opted in to marketing mail" },
      { line: 3, skipped: "a nonsubscribed contact at Mailchimp: never opted in to marketing mail" },
    ]);
  });

  it("reads Substack's export, honouring disabled email and leaving out deletion requests", async () => {
    const rows = await all(readExport(join(FIXTURES, "substack.csv")));
    expect(rows).toEqual([
      { line: 2, email: "sol@example.org", status: "active", subscribedAt: new Date("2022-08-27T15:06:27.713Z"), fields: {} },
      { line: 3, email: "quiet@example.org", status: "unsubscribed", subscribedAt: new Date("2021-12-19T08:03:04.977Z"), fields: {} },
      { line: 4, skipped: "a deletion request" },
    ]);
  });

  it("reads Substack's email_disabled as a spreadsheet saves it (TRUE, 1, no) and refuses another value by its line", async () => {
    const rows = await all(readExport(join(FIXTURES, "substack-excel.csv")));
    expect(rows.map((r) => ("reason" in r ? `${r.line}: ${r.reason}` : "email" in r ? `${r.email}:${r.status}` : "?"))).toEqual([
      "sol@example.org:active",
      "quiet@example.org:unsubscribed",
      "mute@example.org:unsubscribed",
      "kept@example.org:active",
      "6: email_disabled is not true or false (nor TRUE, FALSE, 1, 0, yes or no)",
    ]);
  });

  it("reads Buttondown's export: regular and premium are mailed, unconfirmed ones are not, stopped ones stay stopped", async () => {
    const rows = await all(readExport(join(FIXTURES, "buttondown.csv")));
    expect(rows.map((r) => ("skipped" in r ? `skip:${r.skipped}` : "email" in r ? `${r.email}:${r.status}` : "?"))).toEqual([
      "bea@example.org:active",
      "skip:never confirmed at Buttondown",
      "left@example.org:unsubscribed",
      "bounced@example.org:bounced",
      "paid@example.org:active",
    ]);
    expect(rows[0]).toMatchObject({ subscribedAt: new Date("2023-04-01T12:00:00Z"), fields: { metadata: "{}", tags: "weekly", referrer_url: "https://example.net/" } });
  });

  it("keeps Buttondown's past-due, churned and upcoming readers, who are subscribed, stops those the newsletter removed, and leaves out malformed, disposable and disabled addresses", async () => {
    const root = await tempProject();
    const file = join(root, "buttondown-types.csv");
    const types = ["past_due", "churned", "upcoming", "removed", "malformed", "disposable", "disabled"];
    await put(file, `id,email,creation_date,subscriber_type\n${types.map((type, i) => `${i},${type.replace("_", "")}@example.org,2024-01-0${i + 1}T00:00:00Z,${type}`).join("\n")}\n`);
    const rows = await all(readExport(file));
    expect(rows.map((r) => ("skipped" in r ? `skip:${r.skipped}` : "email" in r ? `${r.email}:${r.status}` : "?"))).toEqual([
      "pastdue@example.org:active",
      "churned@example.org:active",
      "upcoming@example.org:active",
      "removed@example.org:unsubscribed",
      "skip:marked malformed at Buttondown",
      "skip:marked disposable at Buttondown",
      "skip:marked disabled at Buttondown",
    ]);
  });
});

for (const backend of await backends("subscriber import tests")) {
  describe(`importing into ${backend.name}`, () => {
    it("imports each format, and importing the same files again changes nothing", async () => {
      const store = await openStore({ url: await backend.fresh("import"), root: "/nonexistent" });
      const list = new SubscriberList(store, LIST, SECRET);
      const problems: string[] = [];
      const files = ["mailchimp-subscribed.csv", "mailchimp-unsubscribed.csv", "mailchimp-cleaned.csv", "substack.csv", "buttondown.csv", "presswork.csv"];
      const run = async () => {
        const totals = { added: 0, unchanged: 0, invalid: 0, skipped: 0 };
        for (const file of files) {
          const r = await importFile(list, join(FIXTURES, file), undefined, new Date("2026-11-29T12:00:00Z"), (line, reason, severity) => problems.push(`${file}:${line} ${severity} ${reason}`));
          totals.added += r.added;
          totals.unchanged += r.unchanged;
          totals.invalid += r.invalid;
          totals.skipped += r.skipped;
        }
        return totals;
      };
      expect(await run()).toEqual({ added: 12, unchanged: 0, invalid: 2, skipped: 2 });
      expect(problems).toEqual([
        "mailchimp-subscribed.csv:4 error an address needs a part before and after one @",
        "substack.csv:4 skipped a deletion request",
        "buttondown.csv:3 skipped never confirmed at Buttondown",
        'presswork.csv:4 error status "sleeping" is not one of active, unsubscribed, bounced, complained',
      ]);
      expect(await run()).toEqual({ added: 0, unchanged: 12, invalid: 2, skipped: 2 });
      expect(await list.counts()).toMatchObject({ active: 6, unsubscribed: 4, bounced: 2 });
      const mara = await list.history("mara@example.org");
      expect(mara.consents).toEqual([{ subscribedAt: "2024-03-01T09:15:00.000Z", confirmedAt: "2024-03-01T09:17:41.000Z", source: "import:mailchimp", wording: null }]);
      expect((await list.history("theo@example.org")).subscriber?.email).toBe("Theo@example.org");
      await store.close();
    });

    it("imports nothing from a CSV that turns out malformed after batches of good rows, and says so", async () => {
      const store = await openStore({ url: await backend.fresh("malformed"), root: "/nonexistent" });
      const list = new SubscriberList(store, LIST, SECRET);
      const root = await tempProject();
      const good = Array.from({ length: 2500 }, (_, i) => `r${i}@example.org,R${i},active\n`).join("");
      const after = Array.from({ length: 10 }, (_, i) => `after${i}@example.org,,unsubscribed\n`).join("");
      await put(join(root, "late.csv"), `email,name,status\n${good}x@example.org,"Broken "quote" here,active\n${after}`);
      const refused = await importFile(list, join(root, "late.csv"), undefined, new Date("2026-11-29T12:00:00Z"), () => {}).catch((error: unknown) => error);
      expect(await list.counts()).toMatchObject({ active: 0, unsubscribed: 0 });
      expect(refused).toMatchObject({ id: "subscriber-list", message: expect.stringMatching(/late\.csv:2502: the CSV is malformed: .*; nothing was imported$/) });
      await store.close();
    });

    it("reports a row whose address has a control or bidi character as a bad row by its line, and imports the rest", async () => {
      const store = await openStore({ url: await backend.fresh("controls"), root: "/nonexistent" });
      const list = new SubscriberList(store, LIST, SECRET);
      const root = await tempProject();
      await put(join(root, "controls.csv"), 'email,name\nann@example.org,Ann\n"ctl\u0000x\u0007@example.org",Ctl\nreader\u202egro.elpmaxe@example.org,Rev\nbob@example.org,Bob\n');
      const problems: string[] = [];
      const report = await importFile(list, join(root, "controls.csv"), undefined, new Date("2026-11-29T12:00:00Z"), (line, reason, severity) => problems.push(`${line} ${severity} ${reason}`));
      expect(problems).toEqual(["0000", "202E"].map((code, i) => `${i + 3} error the address has a control or invisible formatting character (U+${code}), which an address cannot have`));
      expect(report).toMatchObject({ added: 2, invalid: 2 });
      expect((await store.db.selectFrom("subscribers").select("email").orderBy("email").execute()).map((r) => r.email)).toEqual(["ann@example.org", "bob@example.org"]);
      await store.close();
    });

    it("takes Buttondown's subscription and unsubscription dates and IP address as the consent record and the stop, and records no confirmation nobody gave", async () => {
      const store = await openStore({ url: await backend.fresh("buttondown"), root: "/nonexistent" });
      const list = new SubscriberList(store, LIST, SECRET);
      const rows = await all(readExport(join(FIXTURES, "buttondown-export.csv")));
      expect(rows[0]).toMatchObject({ email: "liz@example.org", status: "active", subscribedAt: new Date("2024-03-13T00:05:41.907Z"), ip: "198.51.100.23", fields: { tags: "lisbon" } });
      expect(rows[1]).toMatchObject({ email: "gone@example.org", status: "unsubscribed", stoppedAt: new Date("2024-04-08T17:09:32.596Z"), ip: "203.0.113.9" });
      expect(await importFile(list, join(FIXTURES, "buttondown-export.csv"), undefined, new Date("2026-11-29T12:00:00Z"), () => {})).toMatchObject({ added: 2 });
      expect((await list.history("liz@example.org")).consents).toEqual([{ subscribedAt: "2024-03-13T00:05:41.907Z", confirmedAt: null, source: "import:buttondown", wording: null }]);
      expect((await list.history("gone@example.org")).subscriber).toMatchObject({ status: "unsubscribed", statusAt: "2024-04-08T17:09:32.596Z" });
      const ip = await store.db.selectFrom("consents").select("ip").orderBy("id").execute();
      expect(ip.map((c) => c.ip)).toEqual(["198.51.100.23", "203.0.113.9"]);
      await store.close();
    });

    it("imports Ghost's members who turned email off, or whose email Ghost disabled, as not mailed", async () => {
      const store = await openStore({ url: await backend.fresh("ghost"), root: "/nonexistent" });
      const list = new SubscriberList(store, LIST, SECRET);
      const problems: string[] = [];
      const report = await importFile(list, join(FIXTURES, "ghost.csv"), undefined, new Date("2026-11-29T12:00:00Z"), (line, reason) => problems.push(`${line} ${reason}`));
      expect(report).toMatchObject({ added: 4, invalid: 1 });
      expect(problems).toEqual(["6 subscribed_to_emails is not true or false (nor TRUE, FALSE, 1, 0, yes or no)"]);
      expect(await list.counts()).toMatchObject({ active: 1, unsubscribed: 2, bounced: 1 });
      expect((await list.history("olaf@example.org")).subscriber).toMatchObject({ status: "unsubscribed" });
      expect((await list.history("olaf@example.org")).consents).toMatchObject([{ subscribedAt: "2022-01-10T12:30:00.000Z", source: "import:ghost" }]);
      await store.close();
    });

    /** Imports `text` as the file `name` into a fresh list; each problem as "line severity reason". */
    const importText = async (name: string, text: string, now = new Date("2026-11-29T12:00:00Z")) => {
      const store = await openStore({ url: await backend.fresh(name.replace(/\W/g, "-")), root: "/nonexistent" });
      const list = new SubscriberList(store, LIST, SECRET);
      const file = join(await tempProject(), name);
      await put(file, text);
      const problems: string[] = [];
      const report = await importFile(list, file, undefined, now, (line, reason, severity) => problems.push(`${line} ${severity} ${reason}`));
      return { store, list, report, problems };
    };

    it("imports its own export with the times it holds, and leaves out the pending subscribers export --status all writes", async () => {
      const { store, list, report, problems } = await importText(
        "export.csv",
        "email,name,status,subscribed_at,changed_at\nann@example.org,Ann,active,2023-01-02T03:04:05.000Z,2023-01-02T03:04:05.000Z\nbo@example.org,Bo,unsubscribed,2022-02-03T04:05:06.000Z,2024-05-06T07:08:09.000Z\ncy@example.org,Cy,pending,2026-11-28T10:00:00.000Z,2026-11-28T10:00:00.000Z\n",
      );
      expect(report).toMatchObject({ added: 2, skipped: 1, invalid: 0 });
      expect(problems).toEqual(["4 skipped pending: never confirmed, so not imported"]);
      const ann = await list.history("ann@example.org");
      expect(ann.consents).toMatchObject([{ subscribedAt: "2023-01-02T03:04:05.000Z" }]);
      expect(ann.subscriber?.fields ?? {}).not.toHaveProperty("subscribed_at");
      expect((await list.history("bo@example.org")).events.find((e) => e.type === "unsubscribed")).toMatchObject({ at: "2024-05-06T07:08:09.000Z" });
      await store.close();
    });

    it("exports the time of each subscriber's consent as subscribed_at, not when the row was added here, so moving the list to another database keeps it", async () => {
      const store = await openStore({ url: await backend.fresh("export-consent"), root: "/nonexistent" });
      const list = new SubscriberList(store, LIST, SECRET);
      await importFile(list, join(FIXTURES, "ghost.csv"), undefined, new Date("2026-11-29T12:00:00Z"), () => {});
      const lines: string[] = [];
      for await (const line of exportLines(list, ["active", "unsubscribed"], "csv")) lines.push(line);
      // Ines subscribed at Ghost on 2 April 2023, and was imported here in November 2026.
      expect(lines.find((line) => line.startsWith("ines@example.org,"))).toMatch(/^ines@example\.org,Ines Roth,active,2023-04-02T08:00:00\.000Z,/);
      await store.close();
    });

    it("keeps no time a spreadsheet rewrote (27/08/2022, or 8/27/2022 read in this machine's zone), and says so beside the row", async () => {
      const now = new Date("2026-11-29T12:00:00Z");
      // A machine west of Greenwich, where Date reads a time without an offset four hours later in UTC.
      vi.stubEnv("TZ", "America/New_York");
      const { store, list, report, problems } = await importText(
        "substack-resaved.csv",
        "email,active_subscription,email_disabled,created_at\nday@example.org,FALSE,FALSE,27/08/2022 15:06\nmonth@example.org,FALSE,FALSE,8/27/2022 15:06\niso@example.org,FALSE,FALSE,2022-08-27T15:06:27.713Z\nbare@example.org,FALSE,FALSE,2022-08-27T15:06:27\n",
        now,
      ).finally(() => vi.unstubAllEnvs());
      expect(report).toMatchObject({ added: 4, invalid: 0 });
      expect(problems).toEqual([2, 3].map((line) => expect.stringMatching(new RegExp(`^${line} warning created_at is not a time written YYYY-MM-DD .*its time is not kept$`))));
      expect((await list.history("month@example.org")).consents).toMatchObject([{ subscribedAt: now.toISOString() }]);
      expect((await list.history("iso@example.org")).consents).toMatchObject([{ subscribedAt: "2022-08-27T15:06:27.713Z" }]);
      // Without an offset, UTC, as the spaced form is, whatever this machine's zone.
      expect((await list.history("bare@example.org")).consents).toMatchObject([{ subscribedAt: "2022-08-27T15:06:27.000Z" }]);
      await store.close();
    });

    it("says once, at its header, that Ghost's own export leaves out whom Ghost stopped mailing after bounces", async () => {
      // The columns Ghost writes (members/csv/unparse): no email_disabled.
      const { store, list, report, problems } = await importText(
        "ghost-stock.csv",
        "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers,gift_id\n1,ines@example.org,Ines,,true,false,,2023-04-02T08:00:00.000Z,,,,\n2,bo@example.org,Bo,,true,false,,2023-04-03T08:00:00.000Z,,,,\n",
      );
      expect(report).toMatchObject({ added: 2, invalid: 0 });
      expect(problems).toEqual([expect.stringMatching(/^1 warning a Ghost members export does not say which members Ghost stopped mailing after a hard bounce or a spam complaint/)]);
      // A file that says so is read as it says, with nothing to warn of.
      const again: string[] = [];
      await importFile(list, join(FIXTURES, "ghost.csv"), undefined, new Date("2026-11-29T12:00:00Z"), (line, reason, severity) => again.push(`${line} ${severity} ${reason}`));
      expect(again.filter((p) => p.includes("warning"))).toEqual([]);
      await store.close();
    });
  });
}

describe("presswork subscribers", () => {
  const env = (root: string) => ({ PRESSWORK_SECRET: SECRET, DATABASE_URL: `sqlite:${join(root, "list.sqlite")}` });

  it("imports, counts, shows why an address stopped, exports, and reports bad rows by file and line", async () => {
    const root = await tempProject();
    await put(join(root, "lists/mailchimp.csv"), await (await import("node:fs/promises")).readFile(join(FIXTURES, "mailchimp-subscribed.csv"), "utf8"));
    await put(join(root, "lists/left.csv"), await (await import("node:fs/promises")).readFile(join(FIXTURES, "mailchimp-unsubscribed.csv"), "utf8"));
    const imported = await runCliHere(["subscribers", "import", "lists/mailchimp.csv"], root, env(root));
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain("lists/mailchimp.csv:4  error  an address needs a part before and after one @");
    expect(imported.stdout).toContain("2 added");
    expect(imported.stdout + imported.stderr).not.toContain("mara@");
    expect((await runCliHere(["subscribers", "import", "lists/left.csv", "--format", "mailchimp"], root, env(root))).code).toBe(0);

    const count = await runCliHere(["subscribers", "count", "--json"], root, env(root));
    expect(JSON.parse(count.stdout)).toEqual({ pending: 0, active: 2, unsubscribed: 1, bounced: 0, complained: 0, suppressed: 0 });

    const show = await runCliHere(["subscribers", "show", "ulla@example.org"], root, env(root));
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("u***@example.org: unsubscribed since 2024-06-30T21:13:09.000Z");
    expect(show.stdout).toContain("Stopped getting mail on 2024-06-30T21:13:09.000Z: unsubscribed, reported by import:mailchimp.");

    const csv = await runCliHere(["subscribers", "export"], root, env(root));
    expect(csv.stdout.split("\n").slice(0, 1)).toEqual(["email,name,status,subscribed_at,changed_at"]);
    expect(csv.stdout).toContain("mara@example.org,Mara Lind,active,");
    const all = await runCliHere(["subscribers", "export", "--status", "all", "--format", "jsonl"], root, env(root));
    expect(all.stdout.trim().split("\n").map((l) => JSON.parse(l).email)).toEqual(["mara@example.org", "Theo@example.org", "ulla@example.org"]);
  });

  it("exports values a spreadsheet would run as formulas as text, and reads its own export back unchanged", async () => {
    const root = await tempProject();
    const names: Record<string, string> = { "ada@example.org": '=HYPERLINK("http://evil.example","Click")', "bo@example.org": "+1 555 0100", "cy@example.org": "@SUM(A1:A9)", "di@example.org": "Di Plain" };
    for (const [email, name] of Object.entries(names)) expect((await runCliHere(["subscribers", "add", email, "--name", name], root, env(root))).code).toBe(0);
    await put(join(root, "lists/dash.csv"), "email,name\n-dash@example.org,Dash\n");
    expect((await runCliHere(["subscribers", "import", "lists/dash.csv"], root, env(root))).code).toBe(0);
    const csv = (await runCliHere(["subscribers", "export"], root, env(root))).stdout;
    expect(csv).toContain(`ada@example.org,"'=HYPERLINK(""http://evil.example"",""Click"")",active,`);
    expect(csv).toContain(`bo@example.org,"'+1 555 0100",active,`);
    expect(csv).toContain(`cy@example.org,"'@SUM(A1:A9)",active,`);
    expect(csv).toContain(`di@example.org,Di Plain,active,`);
    expect(csv).toContain(`"'-dash@example.org",Dash,active,`);
    // No cell starts with a formula character once the CSV quoting is taken off.
    for (const line of csv.trim().split("\n").slice(1)) for (const cell of line.match(/("(?:[^"]|"")*"|[^,]*)(,|$)/g) ?? []) expect(cell.replace(/^"/, "")).not.toMatch(/^[=+\-@\t\r]/);

    const again = await tempProject();
    await put(join(again, "lists/export.csv"), csv);
    expect((await runCliHere(["subscribers", "import", "lists/export.csv"], again, env(again))).code).toBe(0);
    const back = (await runCliHere(["subscribers", "export", "--format", "jsonl"], again, env(again))).stdout.trim().split("\n").map((l) => JSON.parse(l) as { email: string; name: string });
    expect(Object.fromEntries(back.map((r) => [r.email, r.name]))).toEqual({ ...names, "-dash@example.org": "Dash" });
  });

  it("adds, removes and forgets an address; a forgotten one stays suppressed and cannot be added back", async () => {
    const root = await tempProject();
    expect((await runCliHere(["subscribers", "add", "Zed@Example.org", "--name", "Zed"], root, env(root))).stdout).toContain("Z***@example.org: added, active.");
    expect((await runCliHere(["subscribers", "remove", "zed@example.org"], root, env(root))).stdout).toContain("unsubscribed");
    const forget = await runCliHere(["subscribers", "forget", "zed@example.org"], root, env(root));
    expect(forget.stdout).toContain("erased with its consent records and history; its keyed hash stays on the suppression list");
    const back = await runCliHere(["subscribers", "add", "zed@example.org"], root, env(root));
    expect(back.code).toBe(1);
    expect(back.stderr).toContain("suppression list (forgotten on");
    const show = await runCliHere(["subscribers", "show", "zed@example.org", "--json"], root, env(root));
    expect(JSON.parse(show.stdout)).toMatchObject({ consents: [], events: [], suppression: { reason: "forgotten" } });
  });

  it("refuses a list saved as Latin-1 by its file and line and imports none of it, however late the bytes come; a BOM and CRLF line ends are read", async () => {
    const root = await tempProject();
    const count = async () => JSON.parse((await runCliHere(["subscribers", "count", "--json"], root, env(root))).stdout) as { active: number };
    await put(join(root, "latin.csv"), Buffer.from("email,name\n\xe9l\xe8ve@example.com,Caf\xe9\n", "latin1"));
    const latin = await runCliHere(["subscribers", "import", "latin.csv"], root, env(root));
    expect(latin.code).toBe(1);
    expect(latin.stderr).toContain("latin.csv:2: the subscriber list has bytes that are not UTF-8");
    expect(latin.stderr).toContain("save it as UTF-8");
    expect(latin.stderr).not.toContain("@example.");
    expect((await count()).active).toBe(0);

    // Nearly two megabytes of UTF-8 names, one of whose letters the first megabyte read cuts in two, then one Latin-1 row: nothing is imported.
    const rows = Array.from({ length: 40_000 }, (_, i) => `r${i}@example.org,Bj\u00f6rk Gu\u00f0mundsd\u00f3ttir ${i}\n`).join("");
    const late = Buffer.concat([Buffer.from(`email,name\n${rows}`), Buffer.from("last@example.org,Caf\xe9\n", "latin1")]);
    expect((late[1 << 20] as number) & 0xc0).toBe(0x80);
    await put(join(root, "late.csv"), late);
    const refused = await runCliHere(["subscribers", "import", "late.csv"], root, env(root));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("late.csv:40002: the subscriber list has bytes that are not UTF-8");
    expect((await count()).active).toBe(0);

    await put(join(root, "bom.csv"), "\ufeffemail,name\r\n\u00e9l\u00e8ve@example.com,Caf\u00e9\r\n");
    expect((await runCliHere(["subscribers", "import", "bom.csv"], root, env(root))).code).toBe(0);
    const show = await runCliHere(["subscribers", "show", "\u00e9l\u00e8ve@example.com", "--json"], root, env(root));
    expect(JSON.parse(show.stdout)).toMatchObject({ subscriber: { email: "\u00e9l\u00e8ve@example.com", name: "Caf\u00e9", status: "active" } });
  });

  it("says a list path that is a folder is not a file, with exit code 1 and no stack trace", async () => {
    const root = await tempProject();
    const folder = await runCliHere(["subscribers", "import", "articles"], root, env(root));
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain("the subscriber list articles is a folder, not a file");
    expect(folder.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a name with a line break: add as bad usage, import as a bad row by file and line", async () => {
    const root = await tempProject();
    const add = await runCliHere(["subscribers", "add", "ann@example.org", "--name", "Ann\nBcc: everyone@example.org"], root, env(root));
    expect(add.code).toBe(2);
    expect(add.stderr).toContain("--name: the name has a line break");
    expect(add.stderr).toContain("[usage]");
    await put(join(root, "names.csv"), 'email,name\nbob@example.org,"Bob\nBcc: everyone@example.org"\ncarol@example.org,Carol\n');
    const imported = await runCliHere(["subscribers", "import", "names.csv"], root, env(root));
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain("names.csv:3  error  the name has a line break or another control character");
    expect(imported.stdout).toContain("1 added");
    expect((await runCliHere(["subscribers", "export"], root, env(root))).stdout.trim().split("\n").slice(1).map((l) => l.split(",")[0])).toEqual(["carol@example.org"]);
  });

  it("refuses bad usage with exit code 2, a missing secret with exit code 3, and a missing or broken file with exit code 1", async () => {
    const root = await tempProject();
    expect((await runCliHere(["subscribers"], root, env(root))).code).toBe(2);
    expect((await runCliHere(["subscribers", "frobnicate"], root, env(root))).code).toBe(2);
    expect((await runCliHere(["subscribers", "add"], root, env(root))).stderr).toContain("needs an email address");
    expect((await runCliHere(["subscribers", "add", "not-an-address"], root, env(root))).code).toBe(2);
    expect((await runCliHere(["subscribers", "import", "x.csv", "--format", "tinyletter"], root, env(root))).code).toBe(2);
    const missing = await runCliHere(["subscribers", "import", "nowhere.csv"], root, env(root));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nowhere.csv does not exist");
    const noSecret = await runCliHere(["subscribers", "count"], root, { ...env(root), PRESSWORK_SECRET: "" });
    expect(noSecret.code).toBe(3);
    expect(noSecret.stderr).toContain("PRESSWORK_SECRET is not set");
    expect(noSecret.stderr).toContain("[setup]");
    await put(join(root, "broken.csv"), 'email,name\n"unterminated,x\n');
    const broken = await runCliHere(["subscribers", "import", "broken.csv"], root, env(root));
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.csv(:\d+)?: the CSV is malformed/);
    // Nothing listens on port 1: the database is unavailable (exit 4), which no migration is to blame for; the password is not shown.
    const unreachable = await runCliHere(["subscribers", "count"], root, { ...env(root), DATABASE_URL: "postgres://presswork:hunter2-secret@127.0.0.1:1/news" });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/cannot connect to the database: .*ECONNREFUSED.*\[database-unavailable\]/);
    expect(unreachable.stderr).not.toContain("hunter2");
  });
});
