import type { Element, Root } from "hast";
import { common } from "lowlight";
import rehypeHighlight from "rehype-highlight";
import rehypeStringify from "rehype-stringify";
import { unified } from "unified";
import { VFile } from "vfile";
import { describe, expect, it } from "vitest";
import { highlighter } from "../../src/markdown/highlight.js";

/** Code that sets off what grammars embed: a Python prompt, a shell prompt, ERB in YAML, CSS and JavaScript in HTML. */
const CODE = `>>> def f(x): return "s"  # note
$ echo "$HOME" | grep -v x
key: <%= value.upcase %>
<p style="color: red">x</p><style>a { color: blue }</style><script>let a = 1; const q = gql\`{ a }\`;</script>
# Heading\n\n- item
int main(void) { return 0; }
`;

/** A tree of one code block per class list given. */
function tree(...classes: string[][]): Root {
  const block = (className: string[]): Element => ({ type: "element", tagName: "pre", properties: {}, children: [{ type: "element", tagName: "code", properties: { className }, children: [{ type: "text", value: CODE }] }] });
  return { type: "root", children: classes.map(block) };
}

const OPTIONS = { detect: false, plainText: ["text", "txt", "plain"] };

/** The HTML and the messages of a tree highlighted by `highlight`. */
function run(highlight: (tree: Root, file: VFile) => void, root: Root): { html: string; messages: string[] } {
  const file = new VFile({ path: "a.md" });
  highlight(root, file);
  return { html: unified().use(rehypeStringify).stringify(root), messages: file.messages.map((m) => m.reason) };
}

describe("highlighting code", () => {
  const all = rehypeHighlight(OPTIONS);
  const cases: Array<[string, string[][]]> = [
    ...Object.keys(common).map((name): [string, string[][]] => [name, [[`language-${name}`]]]),
    ["two languages", [["language-python"], ["language-bash"]]],
    ["a language by its alias", [["language-py"]]],
    ["a language by its alias beside one by its name", [["lang-sh"], ["language-python"]]],
    ["a language not among the common ones", [["language-brainfuck"]]],
    ["plain text and a block marked not to highlight", [["language-text"], ["language-python", "no-highlight"]]],
    ["no language", [[]]],
  ];

  it.each(cases)("gives %s the HTML and the messages a highlighter of every common language gives", (_, classes) => {
    const some = highlighter(OPTIONS);
    const expected = run(all, tree(...classes));
    expect(run(some, tree(...classes))).toEqual(expected);
    // And again, from the highlighter it made the first time.
    expect(run(some, tree(...classes))).toEqual(expected);
  });

  it("gives trees that name one set of languages after another, as a process that renders many meets them, the HTML and the messages a highlighter of every common language gives", () => {
    const some = highlighter(OPTIONS);
    const sets = [["python"], ["bash"], ["python", "rust"], ["shell"], ["go", "sql"], ["python"], ["xml"], ["python", "ruby"]];
    for (const names of sets) {
      const classes = names.map((name) => [`language-${name}`]);
      expect(run(some, tree(...classes)), names.join(" and ")).toEqual(run(all, tree(...classes)));
    }
  });

  it("highlights a language by its name, and warns of one it does not know", () => {
    const { html, messages } = run(highlighter(OPTIONS), tree(["language-python"], ["language-brainfuck"]));
    expect(html).toContain('<span class="hljs-keyword">def</span>');
    expect(messages).toEqual(["Cannot highlight as `brainfuck`, it’s not registered"]);
  });
});
