import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readExport } from "../../src/audience/imports.js";
import { readSubscribers } from "../../src/audience/source.js";
import { put, removeProjects, tempProject } from "../helpers/project.js";

afterAll(removeProjects);

/** What the send and `import` make of a list file: its rows, or the error that refused it. */
async function read(path: string): Promise<{ send: unknown[] | string; import: unknown[] | string }> {
  const all = async (rows: AsyncIterable<unknown>) => {
    const out: unknown[] = [];
    try {
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
});
