import { PressworkError } from "../errors/error.js";
/** A recipient key as Presswork makes them: 24 hex digits of an HMAC (see addressKey). */
const HEX_KEY = /^[0-9a-f]{24}$/;
/** The largest value a key can hold. */
export const MAX_VALUE = 65_534;

/**
 * Recipient keys mapped to a small number (0 to 65,534), for lists of a
 * million: a key's 96 bits live in a flat open-addressing table, about 28
 * bytes a key where a Map of strings and objects takes five times that.
 * Keys of any other shape (a hand-edited ledger, tests) go to an ordinary
 * Map beside it.
 */
export class KeyTable {
  private words = new Uint32Array(3 * 1024);
  /** value + 1 per slot; 0 marks an empty slot. */
  private values = new Uint16Array(1024);
  private used = 0;
  private readonly others = new Map<string, number>();

  get size(): number {
    return this.used + this.others.size;
  }

  get(key: string): number | undefined {
    if (!HEX_KEY.test(key)) return this.others.get(key);
    const slot = this.slot(key);
    return slot < 0 ? undefined : (this.values[slot] as number) - 1;
  }

  set(key: string, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > MAX_VALUE) throw new PressworkError("internal", `a key table holds 0 to ${MAX_VALUE}, not ${value}`);
    if (!HEX_KEY.test(key)) {
      this.others.set(key, value);
      return;
    }
    const slot = this.slot(key);
    if (slot >= 0) {
      this.values[slot] = value + 1;
      return;
    }
    this.put(Number.parseInt(key.slice(0, 8), 16), Number.parseInt(key.slice(8, 16), 16), Number.parseInt(key.slice(16), 16), value + 1);
    if (++this.used * 2 > this.values.length) this.grow();
  }

  /** Every key and its value, in no particular order. */
  *entries(): Generator<[string, number]> {
    const hex = (n: number) => n.toString(16).padStart(8, "0");
    for (let i = 0; i < this.values.length; i++) {
      const value = this.values[i] as number;
      if (value !== 0) yield [hex(this.words[3 * i] as number) + hex(this.words[3 * i + 1] as number) + hex(this.words[3 * i + 2] as number), value - 1];
    }
    yield* this.others;
  }

  /** The slot holding `key`, or -1. */
  private slot(key: string): number {
    const a = Number.parseInt(key.slice(0, 8), 16);
    const b = Number.parseInt(key.slice(8, 16), 16);
    const c = Number.parseInt(key.slice(16), 16);
    const mask = this.values.length - 1;
    for (let i = spread(a, b, c) & mask; ; i = (i + 1) & mask) {
      if (this.values[i] === 0) return -1;
      if (this.words[3 * i] === a && this.words[3 * i + 1] === b && this.words[3 * i + 2] === c) return i;
    }
  }

  private put(a: number, b: number, c: number, stored: number): void {
    const mask = this.values.length - 1;
    let i = spread(a, b, c) & mask;
    while (this.values[i] !== 0) i = (i + 1) & mask;
    this.words[3 * i] = a;
    this.words[3 * i + 1] = b;
    this.words[3 * i + 2] = c;
    this.values[i] = stored;
  }

  private grow(): void {
    const { words, values } = this;
    this.words = new Uint32Array(words.length * 2);
    this.values = new Uint16Array(values.length * 2);
    for (let i = 0; i < values.length; i++) {
      const stored = values[i] as number;
      if (stored !== 0) this.put(words[3 * i] as number, words[3 * i + 1] as number, words[3 * i + 2] as number, stored);
    }
  }
}

/** A slot number from all 96 bits, so keys alike in one word still spread. */
function spread(a: number, b: number, c: number): number {
  const h = a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b);
  return Math.imul(h ^ (h >>> 16), 0x45d9f3b) ^ (h >>> 13);
}
