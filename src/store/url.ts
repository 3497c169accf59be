import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { PressworkError } from "../errors/error.js";
import { decodeUrlPart } from "../config/url-part.js";

/** Where the database is when DATABASE_URL is not set, relative to the project root: outside dist/, git-ignored. */
export const DEFAULT_DATABASE = "data/presswork.sqlite";

/** Which database a DATABASE_URL names, with the SQLite path resolved against the project root. */
export function parseDatabaseUrl(url: string | undefined, root: string): { dialect: "sqlite"; path: string } | { dialect: "postgres"; url: string } {
  const value = url?.trim() ?? "";
  if (value === "") return { dialect: "sqlite", path: join(root, DEFAULT_DATABASE) };
  if (/^postgres(ql)?:\/\//i.test(value)) {
    if (!URL.canParse(value)) throw new PressworkError("database-url", "DATABASE_URL is not a URL: write it as postgres://user:password@host:5432/database");
    return { dialect: "postgres", url: value };
  }
  const match = /^(?:sqlite|file):(?:\/\/)?(.*)$/i.exec(value);
  const path = match ? decodeUrlPart(match[1] ?? "", "DATABASE_URL", "path", "database-url", "Write % in a sqlite: path as %25.") : value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || path === "") {
    throw new PressworkError("database-url", "DATABASE_URL must be postgres://… for PostgreSQL, or sqlite:PATH (or a file path) for SQLite");
  }
  // A URL mistyped ("postgres//user:password@host/db") would become a file path, and its password a folder's name.
  if (/^postgres(ql)?[:/]/i.test(path) || /^[^/]*:[^/@]*@/.test(path)) {
    throw new PressworkError("database-url", "DATABASE_URL looks like a mistyped URL, not a file path (it starts with postgres: or postgres/, or with user:password@): write postgres://user:password@host:5432/database for PostgreSQL, or sqlite:PATH for SQLite");
  }
  return { dialect: "sqlite", path: isAbsolute(path) ? path : join(root, path) };
}

/**
 * Whether a database is in use: DATABASE_URL is set, or the default file
 * exists under the project root. Commands that can work without one (the
 * send with a file list, the mailbox) use it when it is.
 */
export function databaseInUse(url: string | undefined, root: string): boolean {
  if (url?.trim()) return true;
  return existsSync(join(root, DEFAULT_DATABASE));
}
