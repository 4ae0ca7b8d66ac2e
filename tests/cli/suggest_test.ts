import assert from "node:assert/strict";
import { closest, withSuggestion } from "../../lib/cli/suggest.ts";

const COMMANDS = ["login", "export-env", "credential-process", "exec", "status", "logout"];

Deno.test("closest() finds typos: a swap, a missing, an extra or a wrong letter, and a prefix", () => {
  assert.equal(closest("stauts", COMMANDS), "status");
  assert.equal(closest("logn", COMMANDS), "login");
  assert.equal(closest("loggout", COMMANDS), "logout");
  assert.equal(closest("exportenv", COMMANDS), "export-env");
  assert.equal(closest("credential", COMMANDS), "credential-process");
  assert.equal(closest("Status", COMMANDS), "status");
  assert.equal(closest("dve", ["default", "dev", "demo"]), "dev");
});

Deno.test("closest() suggests nothing for a word that is not near any name", () => {
  assert.equal(closest("frobnicate", COMMANDS), undefined);
  assert.equal(closest("x", COMMANDS), undefined);
  assert.equal(closest("lo", COMMANDS), undefined, "a short prefix of two names is ambiguous");
  assert.equal(closest("status", COMMANDS), undefined, "the name itself is not a suggestion");
  assert.equal(closest("abc", []), undefined);
});

Deno.test("withSuggestion() appends the suggestion as a sentence, or leaves the message", () => {
  assert.equal(
    withSuggestion('Unknown command "stauts"', "stauts", COMMANDS),
    'Unknown command "stauts". Did you mean "status"?',
  );
  assert.equal(withSuggestion('Unknown command "zzz"', "zzz", COMMANDS), 'Unknown command "zzz"');
});
