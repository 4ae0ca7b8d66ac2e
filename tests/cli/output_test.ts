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
