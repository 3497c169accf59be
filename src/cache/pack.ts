import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Where a text lies in the packs: generation, byte offset, byte length. */
export type Place = [generation: number, offset: number, length: number];

const NAME = /^bodies-(\d+)\.pack$/;
/** Appended bytes held before they are written. */
const FLUSH_BYTES = 1 << 20;

/**
 * Texts kept in append-only pack files in one folder, read back by place
 * (the store's packs: see store.ts).
 * One file for thousands of rendered bodies, where a file each cost this
 * kind of file system half a millisecond to create: 2.8 s of a cold build
 * of 5,000 articles. A pack is never rewritten: compaction copies the texts
 * still wanted into the next generation's pack, and the older packs are
 * removed only once nothing refers to them (see `removeUnused`), so a
 * crash at any point leaves every recorded place readable.
 */
export class Packs {
  private readonly generations: number[];
  /** The newest pack, while open to append, and its size, counting what is still to be written. */
  private appending: number | undefined;
  private size: number | undefined;
  /** Appended texts not yet written: written together, a few writes for thousands of bodies. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Each generation's pack, open to read until close. */
  private readonly readers = new Map<number, number>();
  private closed = false;

  constructor(private readonly dir: string) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // no folder yet: made on the first append
    }
    this.generations = names.flatMap((name) => NAME.exec(name)?.[1] ?? []).map(Number).sort((a, b) => a - b);
    if (this.generations.length === 0) this.generations.push(0);
  }

  /** The generation appends go to: the newest. */
  get current(): number {
    return this.generations.at(-1) ?? 0;
  }

  /** Appends a text (or its UTF-8 bytes) to the newest pack; returns its place. It is written by the time the pack is read, flushed or closed. */
  append(text: string | Uint8Array): Place {
    const generation = this.current;
    this.size ??= fstatSync(this.appendFd()).size;
    const bytes = typeof text === "string" ? Buffer.from(text) : text;
    const place: Place = [generation, this.size, bytes.length];
    this.size += bytes.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    return place;
  }

  /** Writes what was appended: before anything records a place of it. */
  flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const fd = this.appendFd();
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
  }

  /** The text at a place; undefined when it cannot be read whole. */
  read(place: Place): string | undefined {
    return this.readBytes(place)?.toString("utf8");
  }

  /**
   * The bytes at a place, for a caller that writes them out as they are,
   * without decoding them to text and encoding them again; undefined when
   * they cannot be read whole. Packs stay open to read until close; after
   * it, each read opens and closes its pack, so nothing stays open after a
   * build.
   */
  readBytes([generation, offset, length]: Place): Buffer | undefined {
    this.flush();
    let fd = this.readers.get(generation);
    try {
      fd ??= openSync(this.path(generation), "r");
      const bytes = Buffer.allocUnsafe(length);
      return readSync(fd, bytes, 0, length, offset) === length ? bytes : undefined;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined && !this.readers.has(generation)) {
        if (this.closed) closeSync(fd);
        else this.readers.set(generation, fd);
      }
    }
  }

  /** Bytes in packs: with `live` (the bytes of the places still wanted), tells when compaction pays. */
  wasteful(live: number): boolean {
    this.flush();
    let total = 0;
    for (const generation of this.generations) {
      try {
        total += statSync(this.path(generation)).size;
      } catch {
        // not made yet
      }
    }
    return total > 2 * live + 4 * 1024 * 1024;
  }

  /** Copies the texts at `places` into a new generation's pack, one at a time; returns their new places, in order. */
  compact(places: readonly Place[]): Place[] {
    this.closeAppending();
    this.generations.push(this.current + 1);
    return places.map((place) => this.append(this.readBytes(place) ?? Buffer.alloc(0)));
  }

  /** Removes the packs of generations no place in `used` refers to. */
  removeUnused(used: ReadonlySet<number>): void {
    for (const generation of this.generations.filter((g) => !used.has(g) && g !== this.current)) {
      const fd = this.readers.get(generation);
      if (fd !== undefined) closeSync(fd);
      this.readers.delete(generation);
      rmSync(this.path(generation), { force: true });
    }
  }

  /** Writes what was appended and closes every pack; later reads open and close their pack each time. */
  close(): void {
    this.closeAppending();
    for (const fd of this.readers.values()) closeSync(fd);
    this.readers.clear();
    this.closed = true;
  }

  private closeAppending(): void {
    this.flush();
    if (this.appending !== undefined) closeSync(this.appending);
    this.appending = undefined;
    this.size = undefined;
  }

  private path(generation: number): string {
    return join(this.dir, `bodies-${generation}.pack`);
  }

  /** The newest pack, open to append; made when missing. */
  private appendFd(): number {
    if (this.appending === undefined) {
      mkdirSync(this.dir, { recursive: true });
      this.appending = openSync(this.path(this.current), "a");
      this.closed = false;
    }
    return this.appending;
  }
}
