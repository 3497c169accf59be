import { describe, expect, it } from "vitest";
import { addressOf } from "../../src/mailbox/fields.js";

describe("the address in a delivery report's address field", () => {
  it("reads RFC 822 and RFC 6533 addresses whole: non-ASCII as is or escaped, and a top-level domain in Punycode", () => {
    expect(addressOf("rfc822; ann@example.org")).toBe("ann@example.org");
    expect(addressOf("rfc822;<bob@example.org>")).toBe("bob@example.org");
    expect(addressOf("utf-8; jörg@bücher.example")).toBe("jörg@bücher.example");
    expect(addressOf("utf-8; anna@stra\\x{DF}e.example")).toBe("anna@straße.example");
    expect(addressOf("utf-8; jörg@bücher.xn--p1ai")).toBe("jörg@bücher.xn--p1ai");
    expect(addressOf("rfc822; ivan@почта.рф")).toBe("ivan@почта.рф");
    expect(addressOf("x-unknown; no address here")).toBeUndefined();
  });
});
