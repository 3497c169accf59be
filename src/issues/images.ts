import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { imageSize } from "image-size";
import { absoluteUrl } from "../content/paths.js";
import { EMAIL_COLUMN } from "./limits.js";

/** The width of the email's picture slot, in CSS pixels: the column. */
export const EMAIL_SLOT = EMAIL_COLUMN;
/** How many image pixels a slot's CSS pixel gets: sharp on high-density screens, without sending more than they show. */
const DENSITY = 2;
/** The formats a copy is made of; others (WebP, AVIF, SVG, animated GIF) are sent as they are. */
const RESIZABLE: Record<string, "image/png" | "image/jpeg"> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg" };

/** An article's picture as the email shows it. */
export interface EmailImage {
  /** Where the email loads it from: the email-size copy, or the original when that is small enough or of a format not resized. */
  url: string;
  /** The width the email gives it: the slot's, or the source's when narrower. */
  width: number;
  /** The height in proportion to `width`. */
  height: number;
  /** The email-size copy the build publishes beside the original, for a source wider than twice the slot. */
  copy?: EmailImageCopy;
}

/** An email-size copy of a picture: made by the build, named by the source's content and its own width. */
export interface EmailImageCopy {
  /** Its path in the site (decoded), beside the original's. */
  file: string;
  /** Absolute path of the source image. */
  source: string;
  mime: "image/png" | "image/jpeg";
  width: number;
  height: number;
}

/** What a copy's name adds to its original's before the extension (".1104w-<hash>."). */
export const COPY_SUFFIX = /\.\d+w-[0-9a-f]{12}\.(?=[a-z]+$)/i;

const known = new Map<string, EmailImage | undefined>();

/**
 * How the email shows the picture at `imagePath` (relative to `root`),
 * published at `sitePath` (URL-encoded, as the site links it): an image
 * wider than twice the slot gets a copy at twice the slot's width, named by
 * its content so a changed picture gets a new address; a narrower one is
 * used as it is. The width is the slot's (the source's when narrower), the
 * height in proportion. Undefined when the file's size cannot be read.
 * Remembered by the file's size and time, so a running preview reads each
 * picture once.
 */
export function emailImage(root: string, imagePath: string, sitePath: string, siteUrl: string): EmailImage | undefined {
  const source = join(root, imagePath);
  let stamp: string;
  try {
    const stat = statSync(source);
    stamp = `${source}|${stat.size}|${stat.mtimeMs}|${sitePath}|${siteUrl}`;
  } catch {
    return undefined;
  }
  if (known.has(stamp)) return known.get(stamp);
  const image = measure(source, sitePath, siteUrl);
  known.set(stamp, image);
  return image;
}

function measure(source: string, sitePath: string, siteUrl: string): EmailImage | undefined {
  const bytes = readFileSync(source);
  let size: { width?: number; height?: number; orientation?: number };
  try {
    size = imageSize(bytes);
  } catch {
    return undefined;
  }
  // EXIF orientations 5 to 8 turn the picture a quarter: what shows is height wide.
  const turned = (size.orientation ?? 1) >= 5;
  const width = (turned ? size.height : size.width) ?? 0;
  const height = (turned ? size.width : size.height) ?? 0;
  if (width <= 0 || height <= 0) return undefined;
  const shown = Math.min(EMAIL_SLOT, width);
  const proportional = (w: number) => Math.max(1, Math.round((height * w) / width));
  const original = { url: absoluteUrl(sitePath, siteUrl), width: shown, height: proportional(shown) };
  const extension = posix.extname(sitePath).slice(1).toLowerCase();
  const mime = RESIZABLE[extension];
  const target = EMAIL_SLOT * DENSITY;
  if (width <= target || !mime || turned) return original;
  const stem = sitePath.slice(0, sitePath.length - extension.length - 1);
  const copyPath = `${stem}.${target}w-${createHash("sha256").update(bytes).digest("hex").slice(0, 12)}.${extension}`;
  return { ...original, url: absoluteUrl(copyPath, siteUrl), copy: { file: decodeURIComponent(copyPath), source, mime, width: target, height: proportional(target) } };
}

/** The bytes of an email-size copy: the source decoded, resized (bicubic) and encoded again in its own format. */
export async function resizeImage(copy: EmailImageCopy): Promise<Uint8Array> {
  const { Jimp } = await import("jimp");
  const image = await Jimp.read(readFileSync(copy.source));
  image.resize({ w: copy.width, h: copy.height });
  return copy.mime === "image/jpeg" ? image.getBuffer("image/jpeg", { quality: 85 }) : image.getBuffer("image/png");
}
