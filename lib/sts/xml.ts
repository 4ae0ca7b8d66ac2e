/**
 * A strict reader for the small XML documents AWS STS answers with (awsQuery protocol): elements,
 * text, the five predefined entities and character references, an optional `<?xml …?>`
 * declaration, and attributes (only kept for `xmlns`). Everything else — a DOCTYPE (entity
 * expansion), CDATA, processing instructions, comments, mixed content, a second root, unbalanced
 * tags — is refused rather than guessed at, so a hostile or broken reply cannot be read two ways.
 *
 * @module
 */

/** An element: its name, child elements, and its text (for a leaf). */
export interface XmlElement {
  readonly name: string;
  readonly children: readonly XmlElement[];
  readonly text: string;
}

/** The reason a document was refused (never quoting it: it may hold secrets). */
export class XmlError extends Error {}

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const ATTRIBUTE = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/;
const MAX_DEPTH = 32;

/**
 * Parses a document.
 *
 * @throws {XmlError} For anything outside the subset above.
 */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  if (text.startsWith("\uFEFF")) i = 1;
  if (text.startsWith("<?xml", i)) {
    const end = text.indexOf("?>", i);
    if (end < 0) throw new XmlError("an unterminated XML declaration");
    i = end + 2;
  }
  skipSpace();
  type Open = { name: string; children: XmlElement[]; text: string };
  const stack: Open[] = [];
  let root: XmlElement | undefined;
  while (i < text.length) {
    if (root !== undefined) {
      skipSpace();
      if (i < text.length) throw new XmlError("content after the root element");
      break;
    }
    const lt = text.indexOf("<", i);
    if (lt < 0) throw new XmlError("an unterminated element");
    if (lt > i) {
      const chunk = text.slice(i, lt);
      const top = stack.at(-1);
      if (top === undefined) {
        if (chunk.trim() !== "") throw new XmlError("text outside the root element");
      } else top.text += decode(chunk);
    }
    i = lt;
    if (text.startsWith("</", i)) {
      const m = NAME.exec(text.slice(i + 2));
      const top = stack.pop();
      if (m === null || top === undefined || m[0] !== top.name) {
        throw new XmlError("a closing tag that does not match");
      }
      i += 2 + m[0].length;
      skipSpace();
      if (text[i] !== ">") throw new XmlError("a malformed closing tag");
      i++;
      if (top.children.length > 0 && top.text.trim() !== "") {
        throw new XmlError(`mixed content in <${top.name}>`);
      }
      const element = { name: top.name, children: top.children, text: top.text };
      const parent = stack.at(-1);
      if (parent === undefined) root = element;
      else parent.children.push(element);
      continue;
    }
    if (text.startsWith("<!", i) || text.startsWith("<?", i)) {
      throw new XmlError("a DOCTYPE, comment, CDATA section or processing instruction");
    }
    const m = NAME.exec(text.slice(i + 1));
    if (m === null) throw new XmlError("a malformed tag");
    i += 1 + m[0].length;
    for (;;) {
      const a = ATTRIBUTE.exec(text.slice(i));
      if (a === null) break;
      i += a[0].length;
    }
    skipSpace();
    const selfClosing = text.startsWith("/>", i);
    if (!selfClosing && text[i] !== ">") throw new XmlError("a malformed tag");
    i += selfClosing ? 2 : 1;
    if (stack.length >= MAX_DEPTH) throw new XmlError("elements nested too deep");
    if (selfClosing) {
      const element = { name: m[0], children: [], text: "" };
      const parent = stack.at(-1);
      if (parent === undefined) root = element;
      else parent.children.push(element);
    } else stack.push({ name: m[0], children: [], text: "" });
  }
  if (root === undefined || stack.length > 0) throw new XmlError("an incomplete document");
  return root;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Text with its entity and character references replaced; a bare `&` is refused. */
function decode(text: string): string {
  return text.replace(/&([^;]{0,10});|&/g, (_, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError("a bare '&'");
    const named = ENTITIES[ref];
    if (named !== undefined) return named;
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (num === null) throw new XmlError("an unknown entity");
    const code = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2]!, 10);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError("an invalid character reference");
    }
    return String.fromCodePoint(code);
  });
}

/** The only child element named `name`; undefined when there is none or more than one. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  const found = element?.children.filter((c) => c.name === name) ?? [];
  return found.length === 1 ? found[0] : undefined;
}

/** The text of the element at `path` below `element`, when it is a leaf. */
export function textAt(element: XmlElement | undefined, ...path: string[]): string | undefined {
  let at = element;
  for (const name of path) at = child(at, name);
  return at !== undefined && at.children.length === 0 ? at.text : undefined;
}
