import { describe, expect, it } from "vitest";
import type { NewsletterConfig } from "../../src/config/schema.js";
import { unsubscribeUrl, verifyUnsubscribeToken } from "../../src/issues/message.js";
import { unsubscribeLink } from "../../src/issues/unsubscribe-url.js";

const LIST = "weekly news&more/2";
const TOKEN = "a+b/c=d e?f#g";

describe("the unsubscribe URL", () => {
  it("puts list and token in a query string as single values, whatever they hold", () => {
    const url = new URL(unsubscribeLink("https://news.example.com/unsubscribe?list={list}&token={token}", LIST, TOKEN));
    expect(url.pathname).toBe("/unsubscribe");
    expect([...url.searchParams.keys()]).toEqual(["list", "token"]);
    expect(url.searchParams.get("list")).toBe(LIST);
    expect(url.searchParams.get("token")).toBe(TOKEN);
    expect(url.hash).toBe("");
  });

  it("keeps the base URL's own query parameters", () => {
    const url = new URL(unsubscribeLink("https://news.example.com/unsubscribe?utm_source=email&list={list}&token={token}", LIST, TOKEN));
    expect(url.searchParams.get("utm_source")).toBe("email");
    expect(url.searchParams.get("list")).toBe(LIST);
    expect(url.searchParams.get("token")).toBe(TOKEN);
  });

  it("puts list and token in path segments of a URL without a query string", () => {
    const url = new URL(unsubscribeLink("https://news.example.com/u/{list}/{token}", LIST, TOKEN));
    expect(url.search).toBe("");
    const [, u, list, token, ...rest] = url.pathname.split("/");
    expect([u, rest]).toEqual(["u", []]);
    expect(decodeURIComponent(list ?? "")).toBe(LIST);
    expect(decodeURIComponent(token ?? "")).toBe(TOKEN);
  });

  it("leaves {token} in when there is no token, for a page that shows the URL as configured", () => {
    expect(unsubscribeLink("https://news.example.com/unsubscribe?list={list}&token={token}", "weekly")).toBe("https://news.example.com/unsubscribe?list=weekly&token={token}");
  });

  it("gives each recipient a URL whose token the service verifies for the address", () => {
    const newsletter = { listId: "weekly.news.example.com", unsubscribe: { url: "https://news.example.com/unsubscribe?list={list}&token={token}", mailto: "unsubscribe@news.example.com" } } as NewsletterConfig;
    const url = new URL(unsubscribeUrl(newsletter, "Reader@Example.org", "s3cret"));
    expect(url.searchParams.get("list")).toBe("weekly.news.example.com");
    expect(url.href).not.toContain("example.org");
    expect(verifyUnsubscribeToken(url.searchParams.get("token") ?? "", "weekly.news.example.com", "s3cret")).toMatch(/^[0-9a-f]{24}$/);
    expect(verifyUnsubscribeToken(url.searchParams.get("token") ?? "", "weekly.news.example.com", "other")).toBeUndefined();
  });
});
