/** Header-style fields: the blocks of a delivery-status or feedback report, and the head of an original message. */

/** One block of fields, by lower-case name; a repeated field keeps every value in order. */
export type FieldBlock = Map<string, string[]>;

/**
 * Splits text of `Name: value` lines into blocks at blank lines, unfolding
 * continuation lines (RFC 5322 folding, which DSN and ARF fields use too).
 * Lines that are not fields are skipped.
 */
export function fieldBlocks(text: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let block: FieldBlock = new Map();
  let last: { name: string; index: number } | undefined;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (line.trim() === "") {
      if (block.size > 0) blocks.push(block);
      block = new Map();
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      const values = block.get(last.name) as string[];
      values[last.index] = `${values[last.index]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0 || /\s/.test(line.slice(0, colon).trim())) {
      last = undefined;
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = block.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    block.set(name, values);
    last = { name, index: values.length - 1 };
  }
  if (block.size > 0) blocks.push(block);
  return blocks;
}

/** The head of a message (its fields up to the first blank line). */
export function messageHead(text: string): FieldBlock {
  const end = text.search(/\r?\n\r?\n/);
  return fieldBlocks(end < 0 ? text : text.slice(0, end))[0] ?? new Map();
}

/** The first value of a field. */
export function field(block: FieldBlock | undefined, name: string): string | undefined {
  return block?.get(name)?.[0];
}

/**
 * The address in a DSN or ARF address field (`rfc822; jane@example.org`,
 * `<jane@example.org>`, RFC 6533's `utf-8; jörg@bücher.example` with
 * non-ASCII written as is or as `\x{F6}`), when it holds one.
 */
export function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const typed = /^\s*[\w-]+\s*;\s*(.*)$/.exec(value);
  const raw = (typed ? (typed[1] as string) : value).trim().replace(/\\x\{([0-9A-Fa-f]{1,6})\}/g, (escape, hex: string) => {
    const point = Number.parseInt(hex, 16);
    return point <= 0x10ffff ? String.fromCodePoint(point) : escape;
  });
  const bracketed = /<([^<>\s]+@[^<>\s]+)>/.exec(raw);
  const bare = bracketed ? bracketed[1] : /[^\s<>"'(),;:]+@[\p{L}\p{N}.-]+\.(?:\p{L}{2,}|xn--[\p{L}\p{N}-]+)(?![\p{L}\p{N}.-])/u.exec(raw)?.[0];
  return bare ? bare.replace(/^["']|["'.]$/g, "") : undefined;
}

/** Every address-looking string in a text. */
export function addressesIn(text: string): string[] {
  return [...text.matchAll(/[^\s<>"'(),;:[\]]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g)].map((m) => m[0].replace(/^["'.]+|["'.]+$/g, ""));
}

/** The date in a field, when it parses. */
export function dateOf(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value.replace(/\s*\([^)]*\)\s*$/, ""));
  return Number.isNaN(date.getTime()) ? undefined : date;
}
