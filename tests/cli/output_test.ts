import assert from "node:assert/strict";
import { printable } from "../../lib/cli/output.ts";

Deno.test("printable() turns C0, DEL and C1 controls (also the one-byte CSI U+009B) into spaces", () => {
  assert.equal(printable("a\x1b[2Jb\x07c\x7fd\u0085e\u009b31mf\0g"), "a [2Jb c d e 31mf g");
});

Deno.test("printable() removes bidi controls, zero-width and line separators that reorder or hide text", () => {
  assert.equal(
    printable("file\u202Eexe.txt\u2066x\u2069\u200By\u200Ez\u2028w\u2029v\uFEFFu\u061Ct"),
    "file exe.txt x y z w v u t",
  );
});

Deno.test("printable() removes private-use, unassigned and noncharacter code points", () => {
  // U+E000 and U+F0000/U+10FFFD: private use; U+0378, U+E0080: unassigned; the rest noncharacters.
  const odd = ["\uE000", "\u{F0000}", "\u{10FFFD}", "\u0378", "\u{E0080}", "\uFFFE", "\uFFFF"]
    .concat(["\uFDD0", "\uFDEF", "\u{1FFFE}", "\u{10FFFF}"]);
  for (const c of odd) {
    const hex = c.codePointAt(0)!.toString(16);
    assert.equal(printable(`a${c}b`), "a b", `U+${hex}`);
  }
});

Deno.test("printable() removes fillers and selectors that draw nothing, and the blank braille cell", () => {
  const blank = ["\u115F", "\u1160", "\u3164", "\uFFA0", "\u2800", "\u17B4", "\u17B5"]
    .concat(["\uFE00", "\uFE0F", "\u{E0100}", "\u{E01EF}", "\u{E0041}", "\u034F", "\u180B"]);
  for (const c of blank) {
    const hex = c.codePointAt(0)!.toString(16);
    assert.equal(printable(`a${c}b`), "a b", `U+${hex}`);
  }
  // A name of nothing but fillers is no name.
  assert.equal(printable("\u3164\u3164\u2800\uFFA0"), "");
});

Deno.test("printable() keeps at most 4 combining marks on a base character", () => {
  const marks = "\u0301\u0302\u0303\u0304\u0305\u0306\u0307";
  assert.equal(
    printable(`Z${marks}a${marks}${marks}l`),
    `Z${marks.slice(0, 4)}a${marks.slice(0, 4)}l`,
  );
  // Ordinary accents, Vietnamese (2 marks) and Devanagari are untouched.
  assert.equal(
    printable("cafe\u0301 Vie\u0323\u0302t \u0915\u094D\u0937\u093F"),
    "cafe\u0301 Vie\u0323\u0302t \u0915\u094D\u0937\u093F",
  );
  // Marks at the very start, with no base, are capped too.
  assert.equal(printable(`${marks}x`), `${marks.slice(0, 4)}x`);
});

Deno.test("printable() keeps ordinary Unicode, flattens whitespace, and drops lone surrogates", () => {
  assert.equal(printable("  Grüße,\t日本 😀\r\n ok  "), "Grüße, 日本 😀 ok");
  assert.equal(printable("a\uD800b\uDC00c"), "a b c");
});

Deno.test("printable() cuts long text at max characters with an ellipsis, never inside a pair", () => {
  assert.equal(printable("x".repeat(10), 4), "xxxx…");
  assert.equal(printable("abc😀def", 4), "abc…");
  assert.equal(printable("x".repeat(300)), "x".repeat(300));
  assert.equal(printable("x".repeat(301)), `${"x".repeat(300)}…`);
});
