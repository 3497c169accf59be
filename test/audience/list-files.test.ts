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

  it("says a list separated by semicolons or tabs is not comma-separated, instead of finding no email column", async () => {
    const root = await tempProject();
    for (const [file, text, separator] of [
      ["semicolons.csv", "email;name;status\r\nann@example.org;Ann;active\r\n", "semicolons"],
      ["unsubscribed.csv", "email;name;unsubscribed\r\nann@example.org;Ann;no\r\n", "semicolons"],
      ["tabs.txt", "email\tname\tstatus\r\nann@example.org\tAnn\tactive\r\n", "tabs"],
    ] as const) {
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
