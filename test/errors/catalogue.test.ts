import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERRORS, EXIT } from "../../src/errors/catalogue.js";
import { contentError, isPressworkError, PressworkError } from "../../src/errors/error.js";
import { FIELD_RULES, RULES } from "../../src/errors/rules.js";
import { VFile } from "vfile";

const SRC = join(import.meta.dirname, "../../src");

/** Every TypeScript file under src/, with its text. */
function sources(): { path: string; text: string }[] {
  return readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".ts"))
    .map((path) => ({ path, text: readFileSync(join(SRC, path), "utf8") }));
}

/** The keys of an object literal `export const NAME = { … }` as written in the file, duplicates included. */
function writtenKeys(file: string, name: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const body = text.slice(text.indexOf(`export const ${name} = {`));
  const end = body.indexOf("\n} as const");
  return [...body.slice(0, end).matchAll(/^ {2}"?([a-z][a-z0-9-]*)"?: \{/gm)].map((m) => m[1] as string);
}

describe("the error catalogue", () => {
  it("gives every error a unique kebab-case id, a summary and an exit code from the table", () => {
    const written = writtenKeys("errors/catalogue.ts", "ERRORS");
    expect(written.length).toBe(Object.keys(ERRORS).length);
    expect(new Set(written).size, "an id is written twice").toBe(written.length);
    for (const [id, entry] of Object.entries(ERRORS)) {
      expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(entry.summary.length, id).toBeGreaterThan(10);
      expect(Object.values(EXIT), id).toContain(entry.exit);
    }
  });

  it("has no entry that nothing in src/ raises", () => {
    const code = sources()
      .filter(({ path }) => !path.startsWith("errors/"))
      .map(({ text }) => text)
      .join("\n");
    const unused = Object.keys(ERRORS).filter((id) => !code.includes(`"${id}"`) && !code.includes(`ERRORS.${id}.`));
    expect(unused).toEqual([]);
  });

  it("throws nothing in src/ but catalogue errors (or rethrows what it caught)", () => {
    const offenders: string[] = [];
    for (const { path, text } of sources()) {
      const lines = text.split("\n");
      lines.forEach((line, i) => {
        if (/^\s*(\/\/|\/?\*)/.test(line)) return;
        for (const match of line.matchAll(/\bthrow\s+([^;]*)/g)) {
          const thrown = match[1] as string;
          if (/^new PressworkError\(|^contentError\(|^internalError\(/.test(thrown)) continue;
          if (/^isPressworkError\(\w+\) \? \w+ : new PressworkError\(/.test(thrown)) continue;
          // A rethrow of what a catch or a callback was given: its origin decides.
          if (/^(\w+\.)?(error|err)$/.test(thrown)) continue;
          // A local factory: it must be declared to return a PressworkError.
          const factory = /^(\w+)\(/.exec(thrown)?.[1];
          if (factory && new RegExp(`(function ${factory}\\([^)]*\\)|const ${factory} = \\([^)]*\\)): (PressworkError|PoolError)`).test(text)) continue;
          offenders.push(`src/${path}:${i + 1}: throw ${thrown}`);
        }
      });
      for (const match of text.matchAll(/\b(reject|Promise\.reject)\(new (\w+)\(/g)) {
        if (match[2] !== "PressworkError") offenders.push(`src/${path}: ${match[0]}`);
      }
      for (const match of text.matchAll(/new (Range|Type)?Error\(/g)) offenders.push(`src/${path}: ${match[0]}`);
    }
    expect(offenders).toEqual([]);
  });

  it("has no error class but PressworkError", () => {
    const classes = sources().flatMap(({ path, text }) => [...text.matchAll(/class (\w+) extends Error\b/g)].map((m) => `src/${path}: ${m[1]}`));
    expect(classes).toEqual(["src/errors/error.ts: PressworkError"]);
  });

  it("is listed in the README with each id's exit code, for scripts to rely on", () => {
    const readme = readFileSync(join(SRC, "../README.md"), "utf8");
    const missing = Object.entries(ERRORS)
      .filter(([id, entry]) => !readme.includes(`| \`${id}\` | ${entry.exit} |`))
      .map(([id]) => id);
    expect(missing).toEqual([]);
  });

  it("takes the exit code and hint from the entry, and the place from a content error's file", () => {
    const locked = new PressworkError("locked", "issue #3 is being sent by runner-a");
    expect(locked.exitCode).toBe(EXIT.unavailable);
    expect(isPressworkError(locked, "locked")).toBe(true);
    expect(isPressworkError(locked, "state-save")).toBe(false);
    expect(new PressworkError("internal", "x").hint).toBe(ERRORS.internal.hint);
    expect(new PressworkError("internal", "x", { hint: "y" }).hint).toBe("y");
    const file = new VFile({ path: "templates/site/page.liquid" });
    file.message("template error: undefined variable: missing", { place: { line: 2, column: 5 }, ruleId: "template", source: "site" }).fatal = true;
    const error = contentError(file);
    expect(error.message).toBe("template error: undefined variable: missing");
    expect(error.place).toEqual({ file: "templates/site/page.liquid", line: 2, column: 5 });
    expect(error.exitCode).toBe(EXIT.problem);
  });
});

describe("the rule catalogue", () => {
  it("names every rule once, and every rule is reported somewhere in src/", () => {
    const written = writtenKeys("errors/rules.ts", "RULES");
    expect(new Set(written).size, "a rule is written twice").toBe(written.length);
    const code = sources()
      .filter(({ path }) => !path.startsWith("errors/"))
      .map(({ text }) => text)
      .join("\n");
    const unused = Object.keys(RULES).filter((id) => !code.includes(`"${id}"`));
    expect(unused).toEqual([]);
    for (const family of Object.keys(FIELD_RULES)) expect(code, family).toMatch(new RegExp(`fieldRule\\(|rule: "${family}"|\`${family}-`));
  });

  it("leaves no message with a rule id outside the catalogue's helpers", () => {
    const offenders = sources()
      .filter(({ path }) => !path.startsWith("errors/") && path !== "validate/messages.ts")
      .flatMap(({ path, text }) => [...text.matchAll(/\.message\([^;]*ruleId/g)].map((m) => `src/${path}: ${m[0].slice(0, 80)}`));
    expect(offenders).toEqual([]);
  });
});
