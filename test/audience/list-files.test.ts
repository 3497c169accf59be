import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readExport } from "../../src/audience/imports.js";
import { checkListFile } from "../../src/audience/list-file.js";
import { readSubscribers } from "../../src/audience/source.js";
import { put, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** What the send and `import` make of a list file: its rows, or the error that refused it. */
async function read(path: string): Promise<{ send: unknown[] | string; import: unknown[] | string }> {
  const all = async (rows: AsyncIterable<unknown>) => {
    const out: unknown[] = [];
    try {
      checkListFile(path, path);
      for await (const row of rows) out.push(row);
      return out;
    } catch (error) {
      return (error as Error).message;
    }
  };
  return { send: await all(readSubscribers({ file: path })), import: await all(readExport(path)) };
}

describe("list files as Excel saves them", () => {
  it("skips the rows of empty cells Excel leaves where rows were cleared", async () => {
    const path = join(await tempProject(), "cleared.csv");
    await put(path, "\ufeffemail,name,status\r\nann@example.org,Ann,active\r\n,,\r\n,,\r\nbob@example.org,Bob,unsubscribed\r\n");
    const { send, import: imported } = await read(path);
    expect(send).toEqual([
      { line: 2, email: "ann@example.org", name: "Ann", status: "active", fields: {} },
      { line: 5, email: "bob@example.org", name: "Bob", status: "unsubscribed", fields: {} },
    ]);
    expect(imported).toEqual([
      { line: 2, email: "ann@example.org", name: "Ann", status: "active", fields: {} },
      { line: 5, email: "bob@example.org", name: "Bob", status: "unsubscribed", fields: {} },
    ]);
  });

  it("counts a line break inside a quoted field as one line when it is Excel's CRLF, for rows and for errors", async () => {
    const root = await tempProject();
    const note = '\ufeffemail,name,status,note\r\nann@example.org,Ann,active,"two\r\nlines"\r\nnot-an-address,X,active,\r\nbob@example.org,Bob,active,"three\r\nlines\r\nhere"\r\ncy@example.org,Cy,active,\r\n';
    await put(join(root, "notes.csv"), note);
    const { send, import: imported } = await read(join(root, "notes.csv"));
    for (const rows of [send, imported]) expect((rows as Array<{ line: number }>).map((r) => r.line)).toEqual([3, 4, 7, 8]);
    await put(join(root, "broken.csv"), `${note}dee@example.org "Dee",Dee,active,\r\n`);
    const broken = await read(join(root, "broken.csv"));
    expect(broken.send).toBe(`${join(root, "broken.csv")}:9: the CSV is malformed: a quote in the middle of a field (INVALID_OPENING_QUOTE)`);
    expect(broken.import).toBe(`${join(root, "broken.csv")}:9: the CSV is malformed: a quote in the middle of a field (INVALID_OPENING_QUOTE); nothing was imported`);
  });

  it("places a quote never closed on the line it opens, however many rows come before it and however slowly they are taken", async () => {
    const path = join(await tempProject(), "unclosed.csv");
    const rows = Array.from({ length: 3000 }, (_, i) => `r${i}@example.org,R${i}\n`).join("");
    await put(path, `email,name\n${rows}"unclosed@example.org,X\n${"after@example.org,A\n".repeat(10)}`);
    const { send, import: imported } = await read(path);
    expect(send).toBe(`${path}:3002: the CSV is malformed: a quoted field is never closed (CSV_QUOTE_NOT_CLOSED)`);
    expect(imported).toBe(`${path}:3002: the CSV is malformed: a quoted field is never closed (CSV_QUOTE_NOT_CLOSED); nothing was imported`);
    // A send takes its rows as it mails them: the parser reaches the end of the file with rows still unread.
    const slowly = async () => {
      for await (const _ of readSubscribers({ file: path })) await new Promise((resolve) => setImmediate(resolve));
    };
    await expect(slowly()).rejects.toThrow(`${path}:3002: the CSV is malformed: a quoted field is never closed`);
  });

  it("reads a list separated by semicolons, as Excel saves CSV where the comma is the decimal sign, a comma in a field kept", async () => {
    const root = await tempProject();
    const path = join(root, "excel-de.csv");
    await put(path, "\ufeffemail;name;status\r\nann@example.org;Lee, Ann;active\r\nbo@example.org;Bo;unsubscribed\r\n");
    const rows = [];
    for await (const row of readSubscribers({ file: path })) rows.push(row);
    expect(rows.map((r) => ("email" in r ? `${r.email}|${r.name ?? ""}|${r.status ?? ""}` : JSON.stringify(r)))).toEqual(["ann@example.org|Lee, Ann|active", "bo@example.org|Bo|unsubscribed"]);
  });

  it("says a list separated by tabs is not comma-separated, instead of finding no email column", async () => {
    const root = await tempProject();
    for (const [file, text, separator] of [["tabs.txt", "email\tname\tstatus\r\nann@example.org\tAnn\tactive\r\n", "tabs"]] as const) {
      const path = join(root, file);
      await put(path, text);
      const message = `${path}: its header row is separated by ${separator}, not commas`;
      const { send, import: imported } = await read(path);
      expect(send, file).toMatch(message);
      expect(imported, file).toMatch(message);
    }
  });

  it("says a list saved as UTF-16 (Excel's Unicode Text) is UTF-16, with or without its byte order mark", async () => {
    const root = await tempProject();
    const text = "email\tname\tstatus\r\nann@example.org\tAnn\tactive\r\n";
    for (const [file, bytes] of [
      ["unicode.txt", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])],
      ["no-bom.txt", Buffer.from(text, "utf16le")],
    ] as const) {
      const path = join(root, file);
      await put(path, bytes);
      expect(() => checkListFile(path, file), file).toThrow(`${file}: the subscriber list is saved as UTF-16 (Excel's "Unicode Text"), not UTF-8`);
    }
  });
});
