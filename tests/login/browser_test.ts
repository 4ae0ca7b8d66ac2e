import assert from "node:assert/strict";
import { LoginError } from "../../lib/errors.ts";
import { browserCommands, openBrowser, splitCommandLine } from "../../lib/login/browser.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { writeScript } from "../helpers/script.ts";

/** Shell scripts play the browser, and BROWSER entries are split at ":": POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const URL_WITH_SHELL_CHARACTERS = "http://127.0.0.1:5/v1/authorize?a=1&b=$(touch%20x);c='d'&e=`f`";

/** A temp dir with small shell scripts that record their arguments, one per line. */
async function scripts() {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-browser-" });
  // Not written by this process: a script it held open for writing may not run (ETXTBSY).
  const make = (name: string, body: string) =>
    writeScript(`${dir}/${name}`, `#!/bin/sh\n${body}\n`);
  return {
    dir,
    /** A browser that records its argv in `<name>.args` and exits with `status`. */
    recorder: (name: string, status = 0) =>
      make(name, `printf '%s\\n' "$@" > '${dir}/${name}.args'\nexit ${status}`),
    make,
    /** The recorded argv, or undefined when the script did not run. */
    args: async (name: string) => {
      try {
        return (await Deno.readTextFile(`${dir}/${name}.args`)).split("\n").slice(0, -1);
      } catch {
        return undefined;
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

posix.test("openBrowser() replaces %s in BROWSER with the URL", async () => {
  await using s = await scripts();
  const browser = await s.recorder("b");
  await openBrowser(URL_WITH_SHELL_CHARACTERS, env({ BROWSER: `${browser} --new-tab=%s --x` }));
  assert.deepEqual(await s.args("b"), [`--new-tab=${URL_WITH_SHELL_CHARACTERS}`, "--x"]);
});

posix.test("openBrowser() appends the URL when BROWSER has no %s, without a shell", async () => {
  await using s = await scripts();
  const browser = await s.recorder("b");
  await openBrowser(URL_WITH_SHELL_CHARACTERS, env({ BROWSER: `${browser} --private` }));
  assert.deepEqual(await s.args("b"), ["--private", URL_WITH_SHELL_CHARACTERS]);
  // Nothing in the URL was run by a shell.
  assert.equal(await Deno.stat(`${s.dir}/x`).then(() => true, () => false), false);
});

posix.test("openBrowser() tries each ':'-separated BROWSER entry until one succeeds", async () => {
  await using s = await scripts();
  const failing = await s.recorder("fails", 3);
  const good = await s.recorder("good");
  const after = await s.recorder("after");
  const url = "http://127.0.0.1:1/x";
  await openBrowser(url, env({ BROWSER: `${s.dir}/missing:${failing}:${good} %s:${after}` }));
  assert.deepEqual(await s.args("fails"), [url]);
  assert.deepEqual(await s.args("good"), [url]);
  assert.equal(await s.args("after"), undefined);
});

posix.test("openBrowser() honours quotes in BROWSER (paths with spaces, arguments)", async () => {
  await using s = await scripts();
  await Deno.mkdir(`${s.dir}/my browser`);
  const path = await s.make(
    "my browser/run",
    `printf '%s\\n' "$@" > '${s.dir}/quoted.args'`,
  );
  const url = "http://127.0.0.1:1/y?z=1";
  await openBrowser(url, env({ BROWSER: `'${path}' "--title=a \\"b\\"" one\\ word %s` }));
  assert.deepEqual(await s.args("quoted"), ['--title=a "b"', "one word", url]);
});

posix.test("openBrowser() fails with ERR_LOGIN_BROWSER naming what it tried", async () => {
  await using s = await scripts();
  const failing = await s.recorder("fails", 1);
  await assert.rejects(
    () => openBrowser("http://x/", env({ BROWSER: `${s.dir}/nope:${failing}:'unterminated` })),
    (err: unknown) => {
      assert.ok(err instanceof LoginError);
      assert.equal(err.code, "ERR_LOGIN_BROWSER");
      assert.equal(err.exitCode, 7);
      assert.match(err.message, /"[^"]*\/nope" was not found/);
      assert.match(err.message, /"[^"]*\/fails" exited with status 1/);
      assert.match(err.message, /Set BROWSER to a command that opens one/);
      return true;
    },
  );
});

/** Linux refuses to run a file open for writing (ETXTBSY); other systems run it. */
const linux = { test: Deno.build.os === "linux" ? Deno.test : Deno.test.ignore };

linux.test("openBrowser() says why a BROWSER could not start in the OS's words", async () => {
  await using s = await scripts();
  const path = `${s.dir}/busy`;
  // Held open for writing, as by an editor or a download still running.
  using file = await Deno.open(path, { write: true, create: true, mode: 0o755 });
  await file.write(new TextEncoder().encode("#!/bin/sh\nexit 0\n"));
  await assert.rejects(
    () => openBrowser("http://x/", env({ BROWSER: path })),
    (err: unknown) => {
      assert.ok(err instanceof LoginError);
      assert.equal(err.code, "ERR_LOGIN_BROWSER");
      // Not "could not start (Error)": the class name of most spawn failures says nothing.
      assert.match(
        err.message,
        /^Cannot open a browser \("[^"]*\/busy" could not start: Text file busy \(os error 26\)\)\./,
      );
      return true;
    },
  );
});

posix.test("openBrowser() counts a browser still running after the grace time as opened", async () => {
  await using s = await scripts();
  const browser = await s.make("stays", `echo $$ > '${s.dir}/pid'\nexec sleep 30`);
  await openBrowser("http://x/", env({ BROWSER: browser }), { graceMs: 300 });
  // The script wrote its pid before it was counted as running; stop it.
  let pid = NaN;
  for (let i = 0; i < 100 && Number.isNaN(pid); i++) {
    pid = Number((await Deno.readTextFile(`${s.dir}/pid`).catch(() => "")).trim() || NaN);
    if (Number.isNaN(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(pid > 0, "the browser script never ran");
  Deno.kill(pid, "SIGTERM");
});

Deno.test("splitCommandLine() splits like a shell, without one", () => {
  assert.deepEqual(splitCommandLine("  firefox   -new-tab  "), ["firefox", "-new-tab"]);
  assert.deepEqual(splitCommandLine(`a 'b c' "d \\"e\\" \\\\" f\\ g ''`), [
    "a",
    "b c",
    'd "e" \\',
    "f g",
    "",
  ]);
  assert.deepEqual(splitCommandLine(`x'y'"z"`), ["xyz"]);
  assert.deepEqual(splitCommandLine(`'$HOME' "\\n"`), ["$HOME", "\\n"]);
  assert.deepEqual(splitCommandLine(""), []);
  assert.throws(() => splitCommandLine("'open"), SyntaxError);
  assert.throws(() => splitCommandLine('"open'), SyntaxError);
  assert.throws(() => splitCommandLine("end\\"), SyntaxError);
});

Deno.test("browserCommands() without BROWSER uses the system opener", () => {
  const url = "http://127.0.0.1:1/a?b=1&c=2";
  const none = env({});
  assert.deepEqual(browserCommands(url, none, "linux"), [{ program: "xdg-open", args: [url] }]);
  assert.deepEqual(browserCommands(url, none, "darwin"), [{ program: "open", args: [url] }]);
  assert.deepEqual(browserCommands(url, none, "windows"), [
    { program: "rundll32", args: ["url.dll,FileProtocolHandler", url] },
    { program: "cmd", args: ["/c", "start", '""', "http://127.0.0.1:1/a?b=1^&c=2"] },
  ]);
});

Deno.test("browserCommands() splits BROWSER at ';' on Windows", () => {
  assert.deepEqual(browserCommands("U", env({ BROWSER: "a.exe %s;b.exe" }), "windows"), [
    { program: "a.exe", args: ["U"] },
    { program: "b.exe", args: ["U"] },
  ]);
});

posix.test("openBrowser() runs an unquoted BROWSER path with spaces as one program", async () => {
  await using s = await scripts();
  await Deno.mkdir(`${s.dir}/My Browser`);
  const path = await s.make("My Browser/run", `printf '%s\\n' "$@" > '${s.dir}/spaced.args'`);
  const url = "http://127.0.0.1:1/z";
  await openBrowser(url, env({ BROWSER: path }));
  assert.deepEqual(await s.args("spaced"), [url]);
});

Deno.test("browserCommands() keeps Windows backslashes in BROWSER paths", () => {
  const firefox = String.raw`C:\Program Files\Mozilla Firefox\firefox.exe`;
  assert.deepEqual(browserCommands("U", env({ BROWSER: `"${firefox}" -private %s` }), "windows"), [
    { program: firefox, args: ["-private", "U"] },
  ]);
  assert.deepEqual(browserCommands("U", env({ BROWSER: firefox }), "windows").at(-1), {
    program: firefox,
    args: ["U"],
  });
});

posix.test("openBrowser() does not keep the process alive for a browser still running", async () => {
  await using s = await scripts();
  const browser = await s.make("stays", `echo $$ > '${s.dir}/pid'\nexec sleep 60`);
  const script = `
    import { openBrowser } from ${
    JSON.stringify(new URL("../../lib/login/browser.ts", import.meta.url).href)
  };
    await openBrowser("http://x/", { get: (n) => n === "BROWSER" ? ${
    JSON.stringify(browser)
  } : undefined }, { graceMs: 300 });
  `;
  const status = await outputBounded(Deno.execPath(), {
    args: ["eval", "-q", script],
    stdout: "null",
    stderr: "inherit",
  });
  assert.ok(status.success);
  // aws-login ended while the browser kept running (else it would have waited for it to exit).
  const pid = Number((await Deno.readTextFile(`${s.dir}/pid`)).trim());
  assert.ok(pid > 0);
  try {
    Deno.kill(pid, "SIGTERM");
  } catch (err) {
    assert.fail(`the browser was no longer running: ${err}`);
  }
});
