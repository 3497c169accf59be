import { describe, expect, it } from "vitest";
import { renderPagesShared } from "../../src/pipeline/render-pages.js";
import { renderPages, type PageSpec } from "../../src/site/pages.js";
import { TemplateError } from "../../src/templates/liquid.js";

const sources = {
  "layout.liquid": "<title>{{ title }}</title>\n{% block content %}{% endblock %}",
  "page.liquid": '{% layout "layout" %}{% block content %}<p>{{ n }}: {{ body | raw }}</p>\n{% if n == 401 %}{{ missing }}{% endif %}{% endblock %}',
};
const specs = (count: number, title = "Page"): PageSpec[] =>
  Array.from({ length: count }, (_, n) => ({ file: `p/${n}/index.html`, template: "page", key: String(n), scope: { n: n === 401 ? 400 : n, title: `${title} ${n} & more`, body: `<em>${"x".repeat(n % 50)}</em>` } }));

describe("rendering many pages on two threads", () => {
  it("gives the same pages, byte for byte and in the same order, as rendering them all here", async () => {
    const all = specs(1200);
    const shared = await renderPagesShared(all, sources);
    const here = renderPages(all, sources);
    expect([...shared.keys()]).toEqual(all.map((s) => s.file));
    expect([...shared]).toEqual([...here]);
    expect(shared.get("p/7/index.html")).toBe("<title>Page 7 &amp; more</title>\n<p>7: <em>xxxxxxx</em></p>\n");
  });

  it("reports a template error from the worker's half with the template's file and line", async () => {
    const all = specs(1200);
    (all[401] as PageSpec).scope["n"] = 401;
    const error = await renderPagesShared(all, sources).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    const message = (error as TemplateError).file.messages[0];
    expect((error as TemplateError).file.path).toMatch(/templates\/site\/page\.liquid$/);
    expect(message?.reason).toContain("undefined variable: missing");
    expect(message?.line).toBe(2);
  });
});
