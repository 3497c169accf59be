import { describe, expect, it } from "vitest";
import { parseAddress } from "../../src/audience/address.js";

describe("parseAddress", () => {
  it("keeps the local part as written and lower-cases the domain; the identity ignores case", () => {
    expect(parseAddress("Ada.Okafor@Signal-Noise.EXAMPLE")).toEqual({ address: "Ada.Okafor@signal-noise.example", identity: "ada.okafor@signal-noise.example" });
    expect(parseAddress("  reader+news@example.org \n")).toEqual({ address: "reader+news@example.org", identity: "reader+news@example.org" });
  });

  it("takes an address in Unicode NFC, so one typed with combining marks is the same address", () => {
    const nfd = "ma\u0308r@example.org";
    expect(parseAddress(nfd)).toEqual({ address: "m\u00e4r@example.org", identity: "m\u00e4r@example.org" });
    expect(parseAddress(nfd)).toEqual(parseAddress("m\u00e4r@example.org"));
  });

  it("sends to internationalised domains in their ASCII form", () => {
    expect(parseAddress("leser@bücher.example")).toEqual({ address: "leser@xn--bcher-kva.example", identity: "leser@xn--bcher-kva.example" });
  });

  it("says why an address is not one", () => {
    const reason = (raw: string) => {
      const result = parseAddress(raw);
      return "reason" in result ? result.reason : undefined;
    };
    expect(reason("")).toBe("the address is empty");
    expect(reason("   ")).toBe("the address is empty");
    for (const raw of ["no-at-sign", "@example.org", "reader@"]) expect(reason(raw), raw).toBe("an address needs a part before and after one @");
    for (const raw of ["two words@example.org", "a@b@example.org", ".dot@example.org", "dot.@example.org", "two..dots@example.org", "<reader@example.org>", `${"x".repeat(65)}@example.org`]) {
      expect(reason(raw), raw).toBe("the part before @ has characters an address cannot have");
    }
    for (const raw of ["reader@localhost", "reader@-example.org", "reader@example-.org", "reader@exa mple.org", "reader@example..org", "reader@.example.org"]) {
      expect(reason(raw), raw).toBe("the domain is not a valid domain name");
    }
    for (const raw of ["reader@127.0.0.1", "reader@192.168.1.20", "reader@0x7f.1"]) expect(reason(raw), raw).toBe("the domain is a number (an IP address), not a domain name");
    for (const raw of ["reader@1password.com", "reader@123.example", "reader@mail.163.com"]) expect(reason(raw), raw).toBeUndefined();
    expect(reason(`${"x".repeat(64)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(63)}.org`)).toBe("the address is longer than 254 characters");
  });

  it("refuses control characters, DEL and invisible formatting characters (bidi controls, zero-width ones), naming the character", () => {
    const reason = (raw: string) => {
      const result = parseAddress(raw);
      return "reason" in result ? result.reason : undefined;
    };
    const cases: Array<[string, string]> = [
      ["ctl\u0000x\u0007@example.org", "0000"],
      ["bell\u0007@example.org", "0007"],
      ["del\u007f@example.org", "007F"],
      ["next\u0085line@example.org", "0085"],
      ["c1\u009b@example.org", "009B"],
      ["reader\u202egro.elpmaxe@example.org", "202E"],
      ["isolate\u2066x\u2069@example.org", "2066"],
      ["mark\u200f@example.org", "200F"],
      ["zero\u200bwidth@example.org", "200B"],
      ["soft\u00adhyphen@example.org", "00AD"],
      ["tag\u{e0041}@example.org", "E0041"],
      ["reader@exam\u00adple.org", "00AD"],
      ["reader@example.org\u0000", "0000"],
    ];
    for (const [raw, code] of cases) expect(reason(raw), JSON.stringify(raw)).toBe(`the address has a control or invisible formatting character (U+${code}), which an address cannot have`);
  });

  it("accepts the longest address there can be", () => {
    const longest = `${"x".repeat(64)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(57)}.org`;
    expect(longest).toHaveLength(254);
    expect("address" in parseAddress(longest)).toBe(true);
  });
});
