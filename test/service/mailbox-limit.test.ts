import { describe, expect, it } from "vitest";
import { parseAddress, type Address } from "../../src/audience/address.js";
import { mailboxOf } from "../../src/audience/mailbox.js";

function address(text: string): Address {
  const parsed = parseAddress(text);
  if ("reason" in parsed) throw new Error(parsed.reason);
  return parsed;
}

describe("mailboxOf", () => {
  it("spells a Gmail mailbox one way, whatever dots, +tags, case or googlemail.com the address has", () => {
    const spellings = ["ann.lee@gmail.com", "a.nnlee@gmail.com", "AnnLee@Gmail.com", "annlee+news@gmail.com", "a.n.n.l.e.e+1@googlemail.com"];
    expect(new Set(spellings.map((s) => mailboxOf(address(s))))).toEqual(new Set(["annlee@gmail.com"]));
  });

  it("keeps the dots elsewhere, where they name other mailboxes, and drops only a +tag", () => {
    expect(mailboxOf(address("ann.lee@example.org"))).toBe("ann.lee@example.org");
    expect(mailboxOf(address("annlee@example.org"))).toBe("annlee@example.org");
    expect(mailboxOf(address("ann.lee+weekly@example.org"))).toBe("ann.lee@example.org");
    // A local part that starts with + has no tag to drop.
    expect(mailboxOf(address("+ann@example.org"))).toBe("+ann@example.org");
  });

  it("spells a Fastmail mailbox one way whatever its subdomain address says: shop@ann.fastmail.com is ann@fastmail.com", () => {
    const spellings = ["ann@fastmail.com", "shop@ann.fastmail.com", "news+x@ann.fastmail.com", "Anything@ANN.fastmail.com", "ann+tag@fastmail.com"];
    expect(new Set(spellings.map((s) => mailboxOf(address(s))))).toEqual(new Set(["ann@fastmail.com"]));
    expect(mailboxOf(address("shop@ann.fastmail.fm"))).toBe("ann@fastmail.fm");
    // Elsewhere a subdomain is a domain of its own.
    expect(mailboxOf(address("shop@ann.example.org"))).toBe("shop@ann.example.org");
  });
});
