/**
 * The one-time console link (lib/login/console_link.ts): it forwards once to the sign-in URL; a
 * second opening is refused and reported; a connection of another local user is refused without
 * spending the link, and an opening by the user's own connection is said to be (the command then
 * ends without waiting for a second opening); only GET with the link's own Host is answered; the target never appears in
 * its log.
 */
import assert from "node:assert/strict";
import { startConsoleLink } from "../../lib/login/console_link.ts";

const TARGET = "https://us-east-1.signin.aws.amazon.com/federation?Action=login&SigninToken=SECRET";

Deno.test("the link forwards once; a second opening is refused and reported", async () => {
  const log: string[] = [];
  await using link = startConsoleLink({ target: TARGET, log: (l) => log.push(l), peerOwner: null });
  assert.match(link.startUrl, /^http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}$/);
  const first = await fetch(link.startUrl, { redirect: "manual" });
  await first.body?.cancel();
  assert.equal(first.status, 302);
  assert.equal(first.headers.get("location"), TARGET);
  assert.equal(first.headers.get("referrer-policy"), "no-referrer");
  assert.equal(first.headers.get("cache-control"), "no-store");
  // No owner check here: whoever opened it is unknown, so the command watches for a second opening.
  assert.deepEqual(await link.opened, { byThisUser: false });
  let reopened = false;
  link.reopened.then(() => (reopened = true));
  const second = await fetch(link.startUrl, { redirect: "manual" });
  assert.equal(second.status, 409);
  assert.doesNotMatch(await second.text(), /SECRET/);
  await link.reopened;
  assert.equal(reopened, true);
  assert.ok(!log.join("\n").includes("SECRET"), "the log names the target");
  assert.ok(!log.join("\n").includes(new URL(link.startUrl).pathname), "the log names the link");
});

Deno.test("another user's connection is refused and the link stays for the user's browser", async () => {
  const refusals: string[] = [];
  let stranger = true;
  await using link = startConsoleLink({
    target: TARGET,
    refused: (m) => refusals.push(m),
    uid: 1000,
    peerOwner: () => ({ found: true, uid: stranger ? 1001 : 1000 }),
  });
  const theirs = await fetch(link.startUrl, { redirect: "manual" });
  assert.equal(theirs.status, 403);
  assert.doesNotMatch(await theirs.text(), /SECRET/);
  assert.match(refusals[0]!, /another user of this device \(uid 1001\)/);
  stranger = false;
  const mine = await fetch(link.startUrl, { redirect: "manual" });
  await mine.body?.cancel();
  assert.equal(mine.status, 302);
  assert.equal(mine.headers.get("location"), TARGET);
  // The URL went to this user: the command need not wait for a second opening.
  assert.deepEqual(await link.opened, { byThisUser: true });
});

Deno.test("an owner not found leaves the link to its other defences", async () => {
  await using link = startConsoleLink({
    target: TARGET,
    uid: 1000,
    peerOwner: () => ({ found: false, why: "not listed" }),
  });
  const r = await fetch(link.startUrl, { redirect: "manual" });
  await r.body?.cancel();
  assert.equal(r.status, 302);
  assert.deepEqual(await link.opened, { byThisUser: false });
});

Deno.test("only GET of the link with its own Host is answered", async () => {
  await using link = startConsoleLink({ target: TARGET, peerOwner: null });
  const url = new URL(link.startUrl);
  const post = await fetch(link.startUrl, { method: "POST", redirect: "manual" });
  assert.equal(post.status, 405);
  await post.body?.cancel();
  const other = await fetch(`${url.origin}/elsewhere`, { redirect: "manual" });
  assert.equal(other.status, 404);
  await other.body?.cancel();
  // A DNS-rebinding page reaches 127.0.0.1 under another name: its Host header gives it away.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(url.port) });
  await conn.write(
    new TextEncoder().encode(`GET ${url.pathname} HTTP/1.1\r\nHost: evil.example\r\n\r\n`),
  );
  const reply = new Uint8Array(4096);
  const n = await conn.read(reply);
  conn.close();
  assert.match(new TextDecoder().decode(reply.subarray(0, n ?? 0)), /^HTTP\/1\.1 400 /);
  // None of these spent the link.
  const r = await fetch(link.startUrl, { redirect: "manual" });
  await r.body?.cancel();
  assert.equal(r.status, 302);
});
