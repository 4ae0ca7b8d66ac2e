/**
 * The emulator's browser side: `GET /v1/authorize` validation (each rule broken alone is refused),
 * the sign-in page (identities, pick, type an ARN, cancel), auto-approval, and the cross-device
 * confirmation page whose `#code` decodes to `state=…&code=…`.
 */
import assert from "node:assert/strict";
import { codeChallengeS256, createCodeVerifier } from "../../lib/signin/pkce.ts";
import { generateDpopKey } from "../../lib/signin/dpop.ts";
import {
  ARN,
  authorizeQuery,
  CALLBACK,
  CROSS_DEVICE,
  proof,
  SAME_DEVICE,
  startEmulator,
  tokenCall,
} from "./flow.ts";

const ACCOUNTS = [
  { arn: "arn:aws:iam::123456789012:user/Alice", name: "Alice" },
  { arn: "arn:aws:sts::210987654321:assumed-role/Admin/bob", name: "Bob <admin>" },
];

async function newRequest(
  base: string,
  options: { clientId?: string; changes?: Record<string, string | null> } = {},
) {
  const verifier = createCodeVerifier();
  const state = crypto.randomUUID();
  const clientId = options.clientId ?? SAME_DEVICE;
  const redirectUri = clientId === CROSS_DEVICE ? `${base}/v1/sessions/confirmation` : CALLBACK;
  const query = authorizeQuery(
    { state, challenge: await codeChallengeS256(verifier), clientId, redirectUri },
    options.changes,
  );
  const reply = await fetch(`${base}/v1/authorize?${query}`, { redirect: "manual" });
  return { verifier, state, clientId, redirectUri, reply, html: await reply.text() };
}

function requestId(html: string): string {
  const id = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(id, "the page has a request_id");
  return id;
}

async function decide(base: string, fields: Record<string, string>) {
  const reply = await fetch(`${base}/v1/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
  return { reply, html: await reply.text() };
}

/** Exchanges a code and returns the id token's claims. */
async function exchange(
  base: string,
  p: { code: string; verifier: string; clientId: string; redirectUri: string },
) {
  const key = await generateDpopKey();
  const r = await tokenCall(base, {
    clientId: p.clientId,
    grantType: "authorization_code",
    code: p.code,
    codeVerifier: p.verifier,
    redirectUri: p.redirectUri,
  }, await proof(key, `${base}/v1/token`));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const payload = (r.body.idToken as string).split(".")[1]!;
  return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
}

Deno.test("the sign-in page lists the identities from accounts, each a clickable button", async () => {
  await using emulator = await startEmulator({ accounts: ACCOUNTS });
  const { reply, html } = await newRequest(emulator.url);
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get("content-type")!, /^text\/html/);
  for (const { arn } of ACCOUNTS) {
    assert.match(html, new RegExp(`<button[^>]*class="identity"[^>]*data-arn="${arn}"`));
  }
  assert.match(html, /Bob &lt;admin&gt;/, "names are escaped");
  assert.match(html, /<input type="text" id="arn" name="arn"/);
  assert.match(html, /<button type="submit" id="cancel">/);
  assert.equal(emulator.controls.counters().authorize, 1);
});

Deno.test("the sign-in page offers the demo identity when no accounts are given", async () => {
  await using emulator = await startEmulator();
  const { html } = await newRequest(emulator.url);
  assert.match(html, /data-arn="arn:aws:iam::123456789012:user\/demo"/);
});

Deno.test("picking an identity redirects with a code and the state; the code signs in as it", async () => {
  await using emulator = await startEmulator({ accounts: ACCOUNTS });
  const request = await newRequest(emulator.url);
  const id = requestId(request.html);
  const { reply } = await decide(emulator.url, { request_id: id, arn: ACCOUNTS[1]!.arn });
  assert.equal(reply.status, 302);
  const location = new URL(reply.headers.get("location")!);
  assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
  assert.equal(location.searchParams.get("state"), request.state);
  const code = location.searchParams.get("code")!;
  const claims = await exchange(emulator.url, { ...request, code });
  assert.equal(claims.sub, ACCOUNTS[1]!.arn);
  assert.equal(claims.aud, "arn:aws:signin:::cli/same-device");
  // The page's request is answered: it cannot be used again.
  const again = await decide(emulator.url, { request_id: id, arn: ACCOUNTS[0]!.arn });
  assert.equal(again.reply.status, 400);
  assert.equal(again.reply.headers.get("location"), null);
});

Deno.test("a typed ARN must be an ARN with an account; the page stays usable", async () => {
  await using emulator = await startEmulator();
  const request = await newRequest(emulator.url);
  const id = requestId(request.html);
  const bad = await decide(emulator.url, { request_id: id, arn: "alice" });
  assert.equal(bad.reply.status, 400);
  assert.match(bad.html, /id="error-description"[^>]*>Cannot sign in as &quot;alice&quot;/);
  const good = await decide(emulator.url, { request_id: id, arn: ARN });
  assert.equal(good.reply.status, 302);
});

Deno.test("a sign-in page left open for more than 15 minutes can no longer approve", async () => {
  await using emulator = await startEmulator();
  const request = await newRequest(emulator.url);
  emulator.controls.setClockOffset(15 * 60_000 + 1000);
  const late = await decide(emulator.url, { request_id: requestId(request.html), arn: ARN });
  assert.equal(late.reply.status, 400);
  assert.equal(late.reply.headers.get("location"), null);
  assert.match(late.html, /unknown, expired or already answered/);
});

Deno.test("Cancel redirects with error=access_denied, a description and the state", async () => {
  await using emulator = await startEmulator();
  const request = await newRequest(emulator.url);
  const { reply } = await decide(emulator.url, {
    request_id: requestId(request.html),
    action: "deny",
  });
  assert.equal(reply.status, 302);
  const params = new URL(reply.headers.get("location")!).searchParams;
  assert.equal(params.get("error"), "access_denied");
  assert.ok(params.get("error_description"));
  assert.equal(params.get("state"), request.state);
  assert.equal(params.get("code"), null);
});

Deno.test("cross-device: the confirmation page's #code decodes to state=…&code=…", async () => {
  await using emulator = await startEmulator({ accounts: ACCOUNTS });
  const request = await newRequest(emulator.url, { clientId: CROSS_DEVICE });
  assert.equal(request.reply.status, 200);
  const { reply, html } = await decide(emulator.url, {
    request_id: requestId(request.html),
    arn: ACCOUNTS[0]!.arn,
  });
  assert.equal(reply.status, 200);
  assert.match(html, /<button type="button" id="copy"/);
  const blob = /<code id="code">([^<]+)<\/code>/.exec(html)?.[1];
  assert.ok(blob);
  const params = new URLSearchParams(atob(blob));
  assert.deepEqual([...params.keys()], ["state", "code"]);
  assert.equal(params.get("state"), request.state);
  const claims = await exchange(emulator.url, { ...request, code: params.get("code")! });
  assert.equal(claims.sub, ACCOUNTS[0]!.arn);
  assert.equal(claims.aud, "arn:aws:signin:::cli/cross-device");
});

Deno.test("auto-approve: same-device redirects at once, cross-device shows the code", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const same = await newRequest(emulator.url);
  assert.equal(same.reply.status, 302);
  const params = new URL(same.reply.headers.get("location")!).searchParams;
  assert.equal(params.get("state"), same.state);
  const claims = await exchange(emulator.url, { ...same, code: params.get("code")! });
  assert.equal(claims.sub, ARN);
  const cross = await newRequest(emulator.url, { clientId: CROSS_DEVICE });
  assert.equal(cross.reply.status, 200);
  assert.match(cross.html, /<code id="code">/);
});

for (
  const [what, changes] of [
    ["no client_id", { client_id: null }],
    ["an unknown client_id", { client_id: "arn:aws:signin:::devtools/other" }],
    ["no redirect_uri", { redirect_uri: null }],
    ["a redirect_uri on localhost", { redirect_uri: "http://localhost:53682/oauth/callback" }],
    ["a redirect_uri over https", { redirect_uri: "https://127.0.0.1:53682/oauth/callback" }],
    ["a redirect_uri with another path", { redirect_uri: "http://127.0.0.1:53682/callback" }],
    ["a redirect_uri with port 70000", { redirect_uri: "http://127.0.0.1:70000/oauth/callback" }],
    ["a redirect_uri elsewhere", { redirect_uri: "https://evil.example/oauth/callback" }],
  ] as const
) {
  Deno.test(`authorize with ${what} gets an error page and no redirect`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const { reply, html } = await newRequest(emulator.url, { changes });
    assert.equal(reply.status, 400);
    assert.equal(reply.headers.get("location"), null);
    assert.match(html, /<h1 id="error">invalid_(client|request)<\/h1>/);
  });
}

Deno.test("cross-device authorize refuses a redirect_uri that is not this emulator's", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const { reply } = await newRequest(emulator.url, {
    clientId: CROSS_DEVICE,
    changes: { redirect_uri: "http://127.0.0.1:1/v1/sessions/confirmation" },
  });
  assert.equal(reply.status, 400);
  assert.equal(reply.headers.get("location"), null);
});

for (
  const [what, changes, error] of [
    ["response_type=token", { response_type: "token" }, "unsupported_response_type"],
    ["no response_type", { response_type: null }, "invalid_request"],
    ["code_challenge_method=S256", { code_challenge_method: "S256" }, "invalid_request"],
    ["no code_challenge_method", { code_challenge_method: null }, "invalid_request"],
    ["a 42-character code_challenge", { code_challenge: "a".repeat(42) }, "invalid_request"],
    ["a 44-character code_challenge", { code_challenge: "a".repeat(44) }, "invalid_request"],
    ["a code_challenge with '+'", { code_challenge: `${"a".repeat(42)}+` }, "invalid_request"],
    ["no code_challenge", { code_challenge: null }, "invalid_request"],
    ["scope=openid profile", { scope: "openid profile" }, "invalid_scope"],
    ["no scope", { scope: null }, "invalid_request"],
    ["no state", { state: null }, "invalid_request"],
    ["an empty state", { state: "" }, "invalid_request"],
  ] as const
) {
  Deno.test(`cross-device authorize with ${what} is refused with 400 ${error}`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const { reply, html } = await newRequest(emulator.url, { clientId: CROSS_DEVICE, changes });
    assert.equal(reply.status, 400);
    assert.match(html, new RegExp(`<h1 id="error">${error}</h1>`));
    assert.doesNotMatch(html, /id="code"/);
  });

  Deno.test(`same-device authorize with ${what} redirects with error=${error}`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const { reply, state } = await newRequest(emulator.url, { changes });
    assert.equal(reply.status, 302);
    const params = new URL(reply.headers.get("location")!).searchParams;
    assert.equal(params.get("error"), error);
    assert.ok(params.get("error_description"));
    assert.equal(params.get("code"), null);
    assert.equal(params.get("state"), "state" in changes ? null : state);
  });
}

Deno.test("authorize refuses a repeated parameter", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const verifier = createCodeVerifier();
  const query = authorizeQuery({ state: "s", challenge: await codeChallengeS256(verifier) });
  const reply = await fetch(
    `${emulator.url}/v1/authorize?${query}&client_id=${encodeURIComponent(SAME_DEVICE)}`,
    { redirect: "manual" },
  );
  await reply.body?.cancel();
  assert.equal(reply.status, 400);
});

Deno.test("GET /v1/sessions/confirmation shows the code for ?code=…&state=…", async () => {
  await using emulator = await startEmulator();
  const reply = await fetch(`${emulator.url}/v1/sessions/confirmation?code=C0DE&state=st`);
  const html = await reply.text();
  assert.equal(reply.status, 200);
  const blob = /<code id="code">([^<]+)<\/code>/.exec(html)![1]!;
  assert.equal(atob(blob), "state=st&code=C0DE");
});
