import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { imageSize } from "image-size";
import { simpleParser } from "mailparser";
import { Jimp } from "jimp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailBody } from "../../src/issues/email-body.js";
import { build } from "../../src/pipeline/build.js";
import { send } from "../../src/pipeline/send.js";
import { initRepo } from "../helpers/git.js";
import { startSmtp } from "../helpers/smtp.js";
import { attr, elements } from "../helpers/html.js";
import { NOW, removeProjects, tempProject } from "../helpers/project.js";

let root: string;
/** Top left, top right, bottom left, bottom right. */
const QUARTERS = [[200, 40, 40], [40, 160, 60], [30, 60, 200], [230, 200, 40]] as const;
const read = (path: string, out = "dist") => readFile(join(root, out, path));
const buildTo = (out: string, cacheDir: string | false = join(root, ".presswork-cache")) => build({ root, now: NOW, out: join(root, out), cacheDir });
/** The lead picture of the next issue's email, as the preview shows the message. */
const leadImage = async (out = "dist") => {
  const html = (await read("issues/next/index.html", out)).toString("utf8");
  const image = elements(html).find((el) => el.tagName === "img" && attr(el, "alt")?.startsWith("A 150 mm wafer"));
  expect(image, "the lead picture").toBeDefined();
  return { src: attr(image!, "src") ?? "", width: attr(image!, "width"), height: attr(image!, "height") };
};

/** A PNG in four coloured quarters (QUARTERS), which a resize must keep. */
const quartered = async (width: number, height: number) => {
  const photo = new Jimp({ width, height });
  const data = photo.bitmap.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = QUARTERS[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)] as readonly [number, number, number];
      data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  return photo.getBuffer("image/png");
};
/** Whether each quarter of `image` (a 1104 × 621 copy) has its colour. */
const expectQuarters = async (bytes: Buffer) => {
  const image = await Jimp.read(bytes);
  [[276, 155], [828, 155], [276, 466], [828, 466]].forEach(([x, y], i) => {
    const pixel = image.getPixelColor(x as number, y as number);
    expect([pixel >>> 24, (pixel >>> 16) & 255, (pixel >>> 8) & 255], `${x},${y}`).toEqual(QUARTERS[i]);
  });
};

beforeAll(async () => {
  root = await tempProject({ samples: true });
  // A photo three times as wide as the email's column.
  await writeFile(join(root, "articles/open-silicon-fab/wafer-large.png"), await quartered(2400, 1350));
});
afterAll(removeProjects);

describe("pictures in the email", () => {
  it("uses a source at most twice the slot as it is, sized to the slot with its height in proportion", async () => {
    const built = await buildTo("dist");
    expect(built.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    // wafer.png is 960 × 540: under twice the 552 px slot.
    expect(await leadImage()).toEqual({ src: "https://signal-noise.example/articles/open-silicon-fab/wafer.png", width: "552", height: "311" });
  });

  it("sends a copy at twice the slot's width of a wider source, and the site keeps the original", async () => {
    const path = join(root, "articles/open-silicon-fab/index.md");
    await writeFile(path, (await readFile(path, "utf8")).replace("src: wafer.png", "src: wafer-large.png"));
    // An article no email shows (sent before, in an issue that kept no content) gets no copy.
    const older = join(root, "articles/small-models-on-device");
    await writeFile(join(older, "phone-chip.png"), await readFile(join(root, "articles/open-silicon-fab/wafer-large.png")));
    await buildTo("dist");
    expect((await readdir(join(root, "dist/articles/small-models-on-device"))).filter((name) => name.includes("1104w"))).toEqual([]);
    const lead = await leadImage();
    expect(lead.width).toBe("552");
    expect(lead.height).toBe("311");
    const match = /^https:\/\/signal-noise\.example\/(articles\/open-silicon-fab\/wafer-large\.1104w-[0-9a-f]{12}\.png)$/.exec(lead.src);
    expect(match, lead.src).not.toBeNull();
    const copy = await read(match?.[1] ?? "");
    expect(imageSize(copy)).toMatchObject({ width: 1104, height: 621, type: "png" });
    expect(copy.length).toBeLessThan((await stat(join(root, "articles/open-silicon-fab/wafer-large.png"))).size);
    // The resize kept the picture: each quarter has its colour.
    await expectQuarters(copy);
    // The site's article page and its feeds keep the full-size original.
    const page = (await read("articles/open-silicon-fab/index.html")).toString("utf8");
    expect(page).toContain("wafer-large.png");
    expect(page).not.toContain("1104w");
    expect((await read("articles/open-silicon-fab/wafer-large.png")).equals(await readFile(join(root, "articles/open-silicon-fab/wafer-large.png")))).toBe(true);
  });

  it("makes the same copy from the cache and from nothing, and a changed picture gets a new address", async () => {
    const first = await leadImage();
    const file = first.src.replace("https://signal-noise.example/", "");
    const bytes = await read(file);
    await buildTo("cached");
    expect((await read(file, "cached")).equals(bytes)).toBe(true);
    await buildTo("fresh", false);
    expect((await read(file, "fresh")).equals(bytes)).toBe(true);
    const photo = await Jimp.read(join(root, "articles/open-silicon-fab/wafer-large.png"));
    photo.setPixelColor(0xff0000ff >>> 0, 10, 10);
    await writeFile(join(root, "articles/open-silicon-fab/wafer-large.png"), await photo.getBuffer("image/png"));
    await buildTo("dist");
    const changed = await leadImage();
    expect(changed.src).not.toBe(first.src);
    expect(imageSize(await read(changed.src.replace("https://signal-noise.example/", "")))).toMatchObject({ width: 1104, height: 621 });
  });

  it("keeps publishing the copy a sent issue links to, once the next issue has moved on", async () => {
    const smtp = await startSmtp();
    try {
      await writeFile(join(root, "subs.csv"), "email,name\nann@example.org,Ann\n");
      initRepo(root);
      const lead = await leadImage();
      const outcome = await send({ root, now: NOW, env: { PRESSWORK_SECRET: "images-secret", SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, subscribers: "subs.csv", dryRun: false, retryFailed: false });
      expect(outcome.recorded).toBe("complete");
      const mail = await simpleParser(smtp.received[0]?.raw ?? Buffer.from(""));
      expect(String(mail.html)).toContain(`src="${lead.src}" alt="A 150 mm wafer`);
      // No next issue links to the picture any more; the sent one does. A build from nothing still makes its copy.
      await buildTo("after-send", false);
      expect(imageSize(await read(lead.src.replace("https://signal-noise.example/", ""), "after-send"))).toMatchObject({ width: 1104, height: 621 });
    } finally {
      await smtp.close();
    }
  });
});

describe("pictures in the body of a full-text email", () => {
  let project: string;
  const SITE = "https://signal-noise.example/";
  const ARTICLE = "articles/open-silicon-fab/";
  const readOut = (path: string, out = "dist") => readFile(join(project, out, path));
  const buildOut = (out: string, cacheDir: string | false = join(project, ".presswork-cache")) => build({ root: project, now: NOW, out: join(project, out), cacheDir });
  /** The body pictures of the next issue's email as the preview shows the message, by the start of their alt text. */
  const bodyImages = async (out = "dist") => {
    const html = (await readOut("issues/next/index.html", out)).toString("utf8");
    const shown = (alt: string) => {
      const image = elements(html).find((el) => el.tagName === "img" && attr(el, "alt")?.startsWith(alt));
      return image && { src: attr(image, "src") ?? "", width: attr(image, "width"), height: attr(image, "height"), style: attr(image, "style") ?? "" };
    };
    return { html, board: shown("The whole board"), bench: shown("The test bench"), probe: shown("A probe tip"), remote: shown("A remote chart") };
  };

  beforeAll(async () => {
    project = await tempProject({ samples: true });
    const folder = join(project, ARTICLE);
    await writeFile(join(folder, "board.png"), await quartered(2400, 1350));
    await writeFile(join(folder, "bench.png"), await quartered(600, 400));
    await writeFile(join(folder, "probe.png"), await quartered(300, 150));
    const index = join(folder, "index.md");
    const pictures = [
      "![The whole board, seen from above.](board.png)",
      "![The test bench with its oscilloscope.](bench.png)",
      "![A probe tip on a pad.](probe.png)",
      "![A remote chart of the yield.](https://images.example.org/yield.png)",
    ].join("\n\n");
    await writeFile(index, (await readFile(index, "utf8")).replace("## How the line works", `${pictures}\n\n## How the line works`));
  });

  it("leaves a summary email alone and copies no picture for it", async () => {
    const built = await buildOut("summary");
    expect(built.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    const { html, board } = await bodyImages("summary");
    expect(board).toBeUndefined();
    expect(html).not.toContain("board.png");
    expect((await readdir(join(project, "summary", ARTICLE))).filter((name) => name.includes("1104w"))).toEqual([]);
  });

  it("sends a copy at twice the slot of a wide body picture, and the others at their own size", async () => {
    const config = join(project, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", "content: full"));
    const built = await buildOut("dist");
    expect(built.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    const { board, bench, probe, remote } = await bodyImages();
    // 2400 × 1350: the 1104 px copy, shown at the slot's 552 px with the height in proportion, shrinking on a phone.
    const match = new RegExp(`^${SITE}(${ARTICLE}board\\.1104w-[0-9a-f]{12}\\.png)$`).exec(board?.src ?? "");
    expect(match, board?.src).not.toBeNull();
    expect(board).toMatchObject({ width: "552", height: "311" });
    expect(board?.style).toContain("max-width:552px");
    expect(board?.style).toContain("height:auto");
    // 600 × 400 and 300 × 150: the originals, at the slot's width or their own.
    expect(bench).toMatchObject({ src: `${SITE}${ARTICLE}bench.png`, width: "552", height: "368" });
    expect(probe).toMatchObject({ src: `${SITE}${ARTICLE}probe.png`, width: "300", height: "150" });
    expect(probe?.style).toContain("max-width:300px");
    // A remote picture is sent as it is: its size is not known.
    expect(remote).toMatchObject({ src: "https://images.example.org/yield.png", width: "552" });
    expect(remote?.height).toBeUndefined();

    const copy = await readOut(match?.[1] ?? "");
    expect(imageSize(copy)).toMatchObject({ width: 1104, height: 621, type: "png" });
    await expectQuarters(copy);
    // Only the wide picture is copied.
    expect((await readdir(join(project, "dist", ARTICLE))).filter((name) => name.includes("1104w"))).toEqual([match?.[1]?.slice(ARTICLE.length)]);
    // The site's page and the feeds keep the originals.
    const page = (await readOut(`${ARTICLE}index.html`)).toString("utf8");
    expect(page).toContain('src="/articles/open-silicon-fab/board.png"');
    expect(page).not.toContain("1104w");
    const feed = (await readOut("feed.xml")).toString("utf8");
    expect(feed).toContain(`${SITE}${ARTICLE}board.png`);
    expect(feed).not.toContain("1104w");
    expect((await readOut(`${ARTICLE}board.png`)).equals(await readFile(join(project, ARTICLE, "board.png")))).toBe(true);
  });

  it("sends the copy and keeps publishing it once the sent issue is no longer the next", async () => {
    const { board } = await bodyImages();
    const smtp = await startSmtp();
    try {
      await writeFile(join(project, "subs.csv"), "email,name\nann@example.org,Ann\n");
      initRepo(project);
      const outcome = await send({ root: project, now: NOW, env: { PRESSWORK_SECRET: "images-secret", SMTP_URL: smtp.url(), SMTP_TLS_INSECURE: "1" }, subscribers: "subs.csv", dryRun: false, retryFailed: false });
      expect(outcome.recorded).toBe("complete");
      const mail = await simpleParser(smtp.received[0]?.raw ?? Buffer.from(""));
      const sent = elements(String(mail.html)).find((el) => el.tagName === "img" && attr(el, "alt")?.startsWith("The whole board"));
      expect(sent && { src: attr(sent, "src"), width: attr(sent, "width"), height: attr(sent, "height") }).toEqual({ src: board?.src, width: "552", height: "311" });
      await buildOut("after-send", false);
      expect(imageSize(await readOut((board?.src ?? "").replace(SITE, ""), "after-send"))).toMatchObject({ width: 1104, height: 621 });
    } finally {
      await smtp.close();
    }
  });
});

describe("a picture in the Quick Reads", () => {
  it("goes into a summary email as its email-size copy, which the site publishes", async () => {
    const project = await tempProject({ samples: true });
    const folder = join(project, "articles/open-silicon-fab");
    await writeFile(join(folder, "board.png"), await quartered(2400, 1350));
    const index = join(folder, "index.md");
    await writeFile(index, (await readFile(index, "utf8")).replace("- Yield on the first wafer was 61 %, better than the team expected.", "- Yield on the first wafer was 61 %: ![The whole board, seen from above.](board.png)"));
    const built = await build({ root: project, now: NOW, out: join(project, "dist"), cacheDir: false });
    expect(built.files.flatMap((f) => f.messages.filter((m) => m.fatal).map(String))).toEqual([]);
    const html = (await readFile(join(project, "dist/issues/next/index.html"), "utf8")).toString();
    const image = elements(html).find((el) => el.tagName === "img" && attr(el, "alt")?.startsWith("The whole board"));
    const src = attr(image!, "src") ?? "";
    expect(src).toMatch(/^https:\/\/signal-noise\.example\/articles\/open-silicon-fab\/board\.1104w-[0-9a-f]{12}\.png$/);
    expect(image && { width: attr(image, "width"), height: attr(image, "height") }).toEqual({ width: "552", height: "311" });
    expect(imageSize(await readFile(join(project, "dist", src.replace("https://signal-noise.example/", ""))))).toMatchObject({ width: 1104, height: 621 });
  });
});

describe("pictures mail clients cannot show", () => {
  it("are named on the article, with their line, when the next full-text issue shows them: an SVG in the body", async () => {
    const project = await tempProject({ samples: true });
    const config = join(project, "presswork.config.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace("content: summary", "content: full"));
    const folder = join(project, "articles/open-silicon-fab");
    await writeFile(join(folder, "flow.svg"), '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><rect width="800" height="400" fill="#369"/></svg>\n');
    const index = join(folder, "index.md");
    const text = await readFile(index, "utf8");
    await writeFile(index, `${text}\n![The wafer's way through the fab.](flow.svg)\n`);
    const built = await build({ root: project, now: NOW, out: join(project, "dist"), cacheDir: false });
    const warned = built.files.flatMap((f) => f.messages.filter((m) => m.ruleId === "email-image-format").map((m) => `${f.path}:${m.line}`));
    expect(warned).toEqual([`articles/open-silicon-fab/index.md:${text.split("\n").length + 1}`]);
  });
});

describe("a body picture as emailBody sizes it", () => {
  const copy = { url: "https://s.example/a/board.1104w-0123456789ab.png", width: 552, height: 311, copy: { file: "a/board.1104w-0123456789ab.png", source: "/p/a/board.png", mime: "image/png" as const, width: 1104, height: 621 } };
  const images = { "https://s.example/a/board.png": copy };
  const img = (html: string) => {
    const found = elements(emailBody(html, images)).find((el) => el.tagName === "img");
    return found && Object.fromEntries(["src", "width", "height", "srcset", "style"].map((name) => [name, attr(found, name)]));
  };

  it("keeps an author's narrower width, the height in proportion, and drops the srcset a copy replaces", () => {
    expect(img('<p><img src="https://s.example/a/board.png" srcset="https://s.example/a/board.png 2400w" alt="Board" width="276"></p>')).toEqual({
      src: copy.url,
      width: "276",
      height: "156",
      srcset: undefined,
      style: "display:block;width:100%;max-width:276px;height:auto;border:0",
    });
  });

  it("leaves a picture it has no size for as it is", () => {
    expect(img('<p><img src="https://s.example/a/other.png" alt="Other" width="552"></p>')).toMatchObject({ src: "https://s.example/a/other.png", width: "552", height: undefined });
  });
});
