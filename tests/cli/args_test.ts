import assert from "node:assert/strict";
import { choiceOption, intOption, parseArgs } from "../../lib/cli/args.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("parseArgs() reads flags, --name value and --name=value", () => {
  const parsed = parseArgs(["--remote", "--profile", "dev", "--region=eu-west-1"], {
    boolean: ["remote", "yes"],
    string: ["profile", "region"],
  });
  assert.equal(parsed.flags.remote, true);
  assert.equal(parsed.flags.yes, false);
  assert.equal(parsed.flags.help, false);
  assert.equal(parsed.values.profile, "dev");
  assert.equal(parsed.values.region, "eu-west-1");
  assert.equal(parsed.passthrough, undefined);
});

Deno.test("parseArgs() always accepts -h, --help and --debug", () => {
  const parsed = parseArgs(["-h", "--debug"], {});
  assert.equal(parsed.flags.help, true);
  assert.equal(parsed.flags.debug, true);
});

Deno.test("parseArgs() keeps everything after -- untouched when passthrough is allowed", () => {
  const parsed = parseArgs(["--profile", "p", "--", "aws", "--profile", "x", "--help"], {
    string: ["profile"],
    passthrough: true,
  });
  assert.deepEqual(parsed.passthrough, ["aws", "--profile", "x", "--help"]);
  assert.equal(parsed.flags.help, false);
});

Deno.test("parseArgs() refuses unknown options, stray arguments, missing and repeated values", () => {
  const spec = { boolean: ["yes"], string: ["profile"] } as const;
  const cases: [string[], string][] = [
    [["--nope"], 'Unknown option "--nope"'],
    [["--profle"], 'Unknown option "--profle". Did you mean "--profile"?'],
    [["--yse"], 'Unknown option "--yse". Did you mean "--yes"?'],
    [["-x"], 'Unknown option "-x"'],
    [["extra"], 'Unexpected argument "extra"'],
    [["--profile"], 'Option "--profile" needs a value'],
    [["--profile="], 'Option "--profile" needs a value'],
    [["--profile", "--yes"], 'Option "--profile" needs a value'],
    [["--profile", "a", "--profile", "b"], 'Option "--profile" is given more than once'],
    [["--yes=1"], 'Option "--yes" takes no value'],
    [["--"], 'Unexpected "--"'],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseArgs(argv, spec), (err) => {
      assert.ok(err instanceof UsageError, `${argv.join(" ")}: ${err}`);
      assert.equal(err.message, message);
      assert.equal(err.exitCode, 2);
      return true;
    });
  }
});

Deno.test("parseArgs() accepts positionals up to the declared count", () => {
  assert.deepEqual(parseArgs(["a"], { positionals: 1 }).positionals, ["a"]);
  assert.throws(() => parseArgs(["a", "b"], { positionals: 1 }), UsageError);
});

Deno.test("intOption() takes whole numbers within bounds only", () => {
  assert.equal(intOption("port", "8080", { min: 0, max: 65535 }), 8080);
  assert.equal(intOption("port", undefined, { min: 0, max: 65535 }), undefined);
  for (const bad of ["-1", "65536", "1.5", "abc", "0x10", ""]) {
    assert.throws(
      () => intOption("port", bad, { min: 0, max: 65535 }),
      (err) =>
        err instanceof UsageError &&
        err.message === `Option "--port" takes a whole number from 0 to 65535, not "${bad}"`,
    );
  }
});

Deno.test("choiceOption() takes one of the listed words only", () => {
  assert.equal(choiceOption("format", "env", ["env", "fish"]), "env");
  assert.throws(
    () => choiceOption("format", "zsh", ["env", "fish"]),
    (err) =>
      err instanceof UsageError &&
      err.message === 'Option "--format" takes one of env, fish, not "zsh"',
  );
});

Deno.test("parseArgs() refuses both options of a conflicting pair, in any order and form", () => {
  const spec = {
    boolean: ["all", "no-revoke"],
    string: ["profile"],
    conflicts: [["all", "profile", "--all means every profile"]],
  } as const;
  for (const argv of [["--all", "--profile", "dev"], ["--profile=dev", "--no-revoke", "--all"]]) {
    assert.throws(
      () => parseArgs(argv, spec),
      (err) =>
        err instanceof UsageError &&
        err.message ===
          'Options "--all" and "--profile" cannot be used together: --all means every profile',
    );
  }
  assert.equal(parseArgs(["--all", "--no-revoke"], spec).flags.all, true);
  assert.equal(parseArgs(["--profile", "dev"], spec).values.profile, "dev");
});
