import { parseFragment, type DefaultTreeAdapterMap } from "parse5";
import sax from "sax";

/**
 * The checks of the W3C feed validator (github.com/w3c/feedvalidator) that
 * generators trip over, ported from its source so a test can run them
 * offline: each finding is named after the validator's message class and
 * worded as the validator words it. What each rule follows is noted on it.
 */
export interface Finding {
  rule: string;
  line: number;
  message: string;
}

const ATOM = "http://www.w3.org/2005/Atom";
const CONTENT = "http://purl.org/rss/1.0/modules/content/";
const DC = "http://purl.org/dc/elements/1.1/";
const FH = "http://purl.org/syndication/history/1.0";

/** validators.py, HTMLValidator.htmltags. */
const HTML_TAGS = new Set(
  "a abbr acronym address applet area article aside audio b base basefont bdi bdo big blockquote body br button canvas caption center cite code col colgroup command data datagrid datalist dd del details dfn dialog dir div dl dt em eventsource fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins isindex kbd label legend li link m main mark map menu meta meter nav noframes noscript object ol optgroup option output p param picture pre progress q rp rt ruby s samp script section select slot small source span strike strong style sub summary sup table tbody td template textarea tfoot th thead time title tr track tt u ul var xmp plaintext embed comment listing video wbr".split(
    " ",
  ),
);
/** validators.py, HTMLValidator.acceptable_elements: the rest are security risks in a feed. */
const SAFE_TAGS = new Set(
  "a abbr acronym address area article aside audio b bdi big blockquote br button canvas caption center cite code col colgroup command data datagrid datalist dd del details dfn dialog dir div dl dt em eventsource fieldset figcaption figure footer font form header h1 h2 h3 h4 h5 h6 hgroup hr i img input ins keygen kbd label legend li m main map mark menu meter multicol nav nextid ol output optgroup option p picture pre progress q rp rt ruby s samp section select small sound source spacer span strike strong sub summary sup table tbody td textarea time tfoot th thead tr tt u ul var video noscript wbr".split(
    " ",
  ),
);

interface Node {
  uri: string;
  local: string;
  name: string;
  attributes: Record<string, string>;
  /** Character data and CDATA, decoded, as a parser hands them on. */
  text: string;
  children: Node[];
  line: number;
  endLine: number;
}

function parse(xml: string): { root: Node | undefined; errors: Finding[] } {
  const parser = sax.parser(true, { xmlns: true, position: true });
  const stack: Node[] = [];
  const errors: Finding[] = [];
  let root: Node | undefined;
  parser.onerror = (error) => {
    errors.push({ rule: "NotWellFormed", line: parser.line + 1, message: error.message.split("\n")[0] ?? "" });
    (parser as unknown as { error: Error | null }).error = null;
    parser.resume();
  };
  parser.onopentag = (tag) => {
    const element = tag as sax.QualifiedTag;
    const node: Node = { uri: element.uri, local: element.local, name: element.name, attributes: Object.fromEntries(Object.values(element.attributes).map((a) => [a.name, a.value])), text: "", children: [], line: parser.line + 1, endLine: parser.line + 1 };
    stack.at(-1)?.children.push(node);
    root ??= node;
    stack.push(node);
  };
  const text = (value: string) => {
    const node = stack.at(-1);
    if (node) node.text += value;
  };
  parser.ontext = text;
  parser.oncdata = text;
  parser.onclosetag = () => {
    const node = stack.pop();
    if (node) node.endLine = parser.line + 1;
  };
  parser.write(xml).close();
  return { root, errors };
}

const child = (node: Node, uri: string, local: string) => node.children.filter((c) => c.uri === uri && c.local === local);

/** Runs the rules on an RSS 2.0 or Atom document. */
export function feedFindings(xml: string): Finding[] {
  const { root, errors } = parse(xml);
  if (!root) return errors;
  const lines = xml.split("\n");
  const found: Finding[] = [...errors];
  const add = (rule: string, node: Node, message: string) => found.push({ rule, line: node.line, message });

  /** validators.py, nonhtml.validate: HTML end tags, HTML entities, and (RSS 2.0) `&` or `<` not written as hexadecimal references. */
  const plainText = (node: Node, rss: boolean) => {
    const value = node.text;
    const tags = [...value.matchAll(/<\/(\w+)>/g)].map((m) => m[1] ?? "").filter((t) => HTML_TAGS.has(t.toLowerCase()));
    const hexOnLines = lines.slice(node.line - 1, node.endLine).some((l) => l.includes("&#x"));
    if (tags.length > 0) return add("ContainsHTML", node, `${node.name} should not contain HTML`);
    const entities = [...value.matchAll(/&(#?\w+)/g)].map((m) => m[1] ?? "");
    if (entities.length > 0) {
      if (entities.some((e) => !/^[A-Za-z]+$/.test(e) || e === "apos" || isHtmlEntity(e)) && !hexOnLines) add("ContainsHTML", node, `${node.name} should not contain HTML`);
      return;
    }
    if (rss && /&#[x0-9]|<[/a-zA-Z]/.test(value) && !hexOnLines) add("CharacterData", node, 'Encode "&" and "<" in plain text using hexadecimal character references.');
  };

  /** validators.py, safeHtml: HTML a feed reader can show safely, with absolute links (absUrlMixin). */
  const html = (node: Node) => {
    const value = node.text;
    const refs = [...value.matchAll(/<img\s+[^>]*src=(?:"(.*?)"|'(.*?)'|([\w-]+))[\s>]/gi), ...value.matchAll(/<a\s+href=(?:"(.*?)"|'(.*?)'|([\w-]+))[\s>]/gi)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
    for (const ref of refs) if (!/^\w+:/.test(decodeHtml(ref).trim())) add("ContainsRelRef", node, `${node.name} should not contain relative URL references: ${ref}`);
    for (const element of htmlElements(value)) {
      if (!HTML_TAGS.has(element.tagName)) add("NotHtml", node, `Invalid HTML: Non-html tag: ${element.tagName}`);
      else if (!SAFE_TAGS.has(element.tagName)) add("SecurityRisk", node, `${node.name} should not contain ${element.tagName} tag`);
      for (const attr of element.attrs) if (attr.name.toLowerCase().startsWith("on")) add("SecurityRiskAttr", node, `${node.name} should not contain ${attr.name} attribute`);
    }
  };

  /** feed.py (Atom) and RFC 5005: an archive links to its neighbours (or is complete) and to the current feed. */
  const archive = (feed: Node, links: Node[]) => {
    if (child(feed, FH, "archive").length === 0) return;
    const complete = child(feed, FH, "complete").length > 0;
    const rels = links.map((l) => l.attributes["rel"]);
    if (!rels.some((r) => r === "prev-archive" || r === "next-archive") && !complete) add("ArchiveIncomplete", feed, "Archive incomplete");
    if (!rels.includes("current") && !complete) add("MissingCurrentInArchive", feed, "Current link not found in archive feed");
  };

  if (root.local === "rss") {
    const channel = child(root, "", "channel")[0];
    if (!channel) return [...found, { rule: "MissingElement", line: root.line, message: "Missing rss element: channel" }];
    const links = child(channel, ATOM, "link");
    // rss.py / channel.py: MissingAtomSelfLink.
    if (!links.some((l) => l.attributes["rel"] === "self")) add("MissingAtomSelfLink", channel, 'Missing atom:link with rel="self"');
    archive(channel, links);
    for (const node of [...child(channel, "", "title"), ...child(channel, "", "description"), ...child(channel, "", "image").flatMap((i) => child(i, "", "title"))]) plainText(node, true);
    const guids = new Set<string>();
    for (const item of child(channel, "", "item")) {
      // item.py: do_author / do_dc_creator.
      if (child(item, "", "author").length > 0 && child(item, DC, "creator").length > 0) add("DuplicateItemSemantics", item, "An item should not include both author and dc:creator");
      // item.py: do_content_encoded logs when no description came before it.
      const order = item.children.map((c) => (c.uri === "" && c.local === "description" ? "description" : c.uri === CONTENT && c.local === "encoded" ? "content" : ""));
      const content = order.indexOf("content");
      if (content >= 0 && !order.slice(0, content).includes("description")) add("NeedDescriptionBeforeContent", item, "Ensure description precedes content:encoded");
      for (const title of child(item, "", "title")) plainText(title, true);
      for (const node of [...child(item, "", "description"), ...child(item, CONTENT, "encoded")]) html(node);
      // item.py: do_guid, unique('guid', channel).
      for (const guid of child(item, "", "guid")) {
        if (guids.has(guid.text)) add("DuplicateValue", guid, `guid values must not be duplicated within a feed: ${guid.text}`);
        guids.add(guid.text);
      }
    }
  } else if (root.uri === ATOM && root.local === "feed") {
    const links = child(root, ATOM, "link");
    // feed.py, validate_metadata: MissingSelf.
    if (!links.some((l) => l.attributes["rel"] === "self")) add("MissingSelf", root, 'Missing atom:link with rel="self"');
    archive(root, links);
    const ids = new Set<string>();
    for (const entry of child(root, ATOM, "entry")) {
      for (const node of [...child(entry, ATOM, "title"), ...child(entry, ATOM, "summary"), ...child(entry, ATOM, "content")]) {
        if (node.attributes["type"] === "html") html(node);
        else plainText(node, false);
      }
      // entry.py: do_id, unique('id', feed, DuplicateEntries).
      for (const id of child(entry, ATOM, "id")) {
        if (ids.has(id.text)) add("DuplicateEntries", id, `Two entries with the same id: ${id.text}`);
        ids.add(id.text);
      }
    }
  } else add("UnknownFormat", root, `not an RSS 2.0 or Atom document: <${root.name}>`);
  return found;
}

function isHtmlEntity(name: string): boolean {
  return decodeHtml(`&${name};`) !== `&${name};`;
}

function decodeHtml(text: string): string {
  const fragment = parseFragment(text);
  return fragment.childNodes.map((n) => ("value" in n ? n.value : "")).join("");
}

function htmlElements(html: string): DefaultTreeAdapterMap["element"][] {
  const out: DefaultTreeAdapterMap["element"][] = [];
  const walk = (node: DefaultTreeAdapterMap["node"]) => {
    if ("tagName" in node) out.push(node);
    if ("childNodes" in node) node.childNodes.forEach(walk);
  };
  parseFragment(html).childNodes.forEach(walk);
  return out;
}
