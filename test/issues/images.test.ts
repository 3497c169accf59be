import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { imageSize } from "image-size";
import { simpleParser } from "mailparser";
import { Jimp } from "jimp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

beforeAll(async () => {
  root = await tempProject({ samples: true });
  // A photo three times as wide as the email's column, in four coloured quarters a resize must keep.
  const photo = new Jimp({ width: 2400, height: 1350 });
  const data = photo.bitmap.data;
  for (let y = 0; y < 1350; y++) {
    for (let x = 0; x < 2400; x++) {
      const [r, g, b] = QUARTERS[(y < 675 ? 0 : 2) + (x < 1200 ? 0 : 1)] as readonly [number, number, number];
      data.set([r, g, b, 255], (y * 2400 + x) * 4);
    }
  }
  await writeFile(join(root, "articles/open-silicon-fab/wafer-large.png"), await photo.getBuffer("image/png"));
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
    const image = await Jimp.read(copy);
    [[276, 155], [828, 155], [276, 466], [828, 466]].forEach(([x, y], i) => {
      const pixel = image.getPixelColor(x as number, y as number);
      expect([pixel >>> 24, (pixel >>> 16) & 255, (pixel >>> 8) & 255], `${x},${y}`).toEqual(QUARTERS[i]);
    });
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
