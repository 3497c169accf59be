import type { Page } from "playwright-core";

/** A piece of text whose colour is too close to what is behind it. */
export interface LowContrast {
  text: string;
  ratio: number;
  colour: string;
  background: string;
}

/**
 * The WCAG contrast of every visible text node in the page, from the colours
 * Chromium computed: the text's colour against the backgrounds of its
 * ancestors composited over the canvas. Returns those under `minimum`.
 * Text that is not drawn (no box, outside the page, or in a box clipped to
 * nothing, like a hidden preheader) is not read by anyone and is skipped.
 */
export async function lowContrast(page: Page, minimum = 4.5): Promise<LowContrast[]> {
  return page.evaluate((min) => {
    type Rgba = [number, number, number, number];
    const parse = (value: string): Rgba => {
      const parts = (/\(([^)]*)\)/.exec(value)?.[1] ?? "0 0 0 0").split(/[\s,/]+/).filter(Boolean).map(Number);
      return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
    };
    const over = (top: Rgba, below: Rgba): Rgba => {
      const a = top[3];
      return [top[0] * a + below[0] * (1 - a), top[1] * a + below[1] * (1 - a), top[2] * a + below[2] * (1 - a), 1];
    };
    const luminance = ([r, g, b]: Rgba) => {
      const channel = (c: number) => {
        const v = c / 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const dark = matchMedia("(prefers-color-scheme: dark)").matches && /dark/.test(getComputedStyle(document.documentElement).colorScheme + (document.querySelector('meta[name="color-scheme"]')?.getAttribute("content") ?? ""));
    const canvas: Rgba = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
    // Both walk up the ancestors: remembered per element, as siblings share them.
    const backgrounds = new Map<Element, Rgba>();
    const backgroundOf = (element: Element | null): Rgba => {
      if (!element) return canvas;
      let found = backgrounds.get(element);
      if (!found) backgrounds.set(element, (found = over(parse(getComputedStyle(element).backgroundColor), backgroundOf(element.parentElement))));
      return found;
    };
    const hidden = new Map<Element, boolean>();
    const clipped = (element: Element | null): boolean => {
      if (!element) return false;
      let found = hidden.get(element);
      if (found === undefined) {
        const style = getComputedStyle(element);
        found = style.visibility === "hidden" || style.opacity === "0" || (style.overflow !== "visible" && (element.clientHeight === 0 || element.clientWidth <= 1)) || clipped(element.parentElement);
        hidden.set(element, found);
      }
      return found;
    };
    const found: Array<{ text: string; ratio: number; colour: string; background: string }> = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim() ?? "";
      const parent = node.parentElement;
      if (!text || !parent || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(parent.tagName)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0 && r.height > 0 && r.right + scrollX > 0 && r.bottom + scrollY > 0);
      if (rects.length === 0 || clipped(parent)) continue;
      const background = backgroundOf(parent);
      const colour = over(parse(getComputedStyle(parent).color), background);
      const [hi, lo] = [luminance(colour), luminance(background)].sort((a, b) => b - a) as [number, number];
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < min) found.push({ text: text.slice(0, 60), ratio: Math.round(ratio * 100) / 100, colour: `rgb(${colour.slice(0, 3).map(Math.round).join(", ")})`, background: `rgb(${background.slice(0, 3).map(Math.round).join(", ")})` });
    }
    return found;
  }, minimum);
}

/** How far the page scrolls sideways past the viewport: 0 when it fits. */
export async function sidewaysScroll(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
}

/** The page's headings in order, as "h2 Title". */
export async function headings(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6")).map((h) => `${h.tagName.toLowerCase()} ${(h.textContent ?? "").trim()}`));
}

/** The document without its `<style>` elements, as webmail that drops them shows it. */
export function withoutStyles(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/gi, "");
}
