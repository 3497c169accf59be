import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyTable } from "../../src/state/key-table.js";

const key = (i: number) => createHmac("sha256", "test").update(String(i)).digest("hex").slice(0, 24);

describe("the key table", () => {
  it("keeps 100,000 keys through its growth, each with its own value, and lists them all back", () => {
    const table = new KeyTable();
    for (let i = 0; i < 100_000; i++) table.set(key(i), i % 1000);
    table.set(key(7), 999);
    expect(table.size).toBe(100_000);
    expect(table.get(key(7))).toBe(999);
    expect(table.get(key(99_999))).toBe(99_999 % 1000);
    expect(table.get(key(100_000))).toBeUndefined();
    const listed = new Map(table.entries());
    expect(listed.size).toBe(100_000);
    expect(listed.get(key(12_345))).toBe(345);
  });

  it("tells apart keys that share their first 64 bits", () => {
    const table = new KeyTable();
    table.set("0123456789abcdef00000001", 1);
    table.set("0123456789abcdef00000002", 2);
    expect([table.get("0123456789abcdef00000001"), table.get("0123456789abcdef00000002"), table.get("0123456789abcdef00000003")]).toEqual([1, 2, undefined]);
  });

  it("holds keys of any other shape too, and refuses values it cannot store", () => {
    const table = new KeyTable();
    table.set("key0", 3);
    table.set("0123456789ABCDEF01234567", 4);
    expect(table.get("key0")).toBe(3);
    expect(table.get("0123456789abcdef01234567")).toBeUndefined();
    expect(new Map(table.entries()).get("0123456789ABCDEF01234567")).toBe(4);
    expect(() => table.set("key1", 70_000)).toThrow("a key table holds 0 to");
    expect(() => table.set("key1", -1)).toThrow("a key table holds 0 to");
  });
});
