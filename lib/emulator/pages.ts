/**
 * The emulator's HTML: the sign-in page (pick one of the active identities, type another ARN, or
 * cancel), the cross-device confirmation page with the verification code, and error pages. Plain
 * server-rendered HTML with stable ids and classes, so a browser driver can click through it:
 *
 * - sign-in: `form#select-account` with one `button.identity[data-arn="…"]` (also `#identity-N`) per
 *   identity; `form#sign-in` with `input#arn` and `button#sign-in-submit`; `button#cancel`; each form
 *   carries a hidden `input[name=request_id]`.
 * - confirmation: `#code` holds the verification code, `button#copy` copies it.
 * - error: `h1#error` (the OAuth error code) and `p#error-description`; cancelled: `h1#denied`.
 *
 * Every value is HTML-escaped.
 *
 * @module
 */
import type { Account } from "./state.ts";

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const STYLE = `
  body { margin: 0; font: 15px/1.45 "Amazon Ember", "Helvetica Neue", Arial, sans-serif;
    background: #f2f3f3; color: #16191f; }
  header { background: #232f3e; color: #fff; padding: 12px 24px; font-weight: 700; }
  header span { color: #ff9900; }
  main { max-width: 440px; margin: 40px auto; background: #fff; border: 1px solid #d5dbdb;
    border-radius: 8px; padding: 24px 28px; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
  h1 { font-size: 22px; margin: 0 0 8px; font-weight: 500; }
  p { margin: 8px 0; } .muted { color: #545b64; font-size: 13px; }
  ul { list-style: none; padding: 0; margin: 16px 0; }
  li { margin: 8px 0; }
  button { font: inherit; cursor: pointer; border-radius: 20px; padding: 6px 18px;
    border: 1px solid #879596; background: #fff; }
  button.primary, #sign-in-submit { background: #ff9900; border-color: #ec7211; font-weight: 700; }
  button.identity { width: 100%; text-align: left; border-radius: 6px; padding: 10px 14px; }
  button.identity:hover { border-color: #ec7211; background: #fffaf2; }
  .name { display: block; font-weight: 700; } .arn, .account { display: block; font-size: 12px;
    color: #545b64; word-break: break-all; }
  label { display: block; margin: 16px 0 4px; font-weight: 700; }
  input[type=text] { width: 100%; box-sizing: border-box; padding: 6px 8px; border: 1px solid #879596;
    border-radius: 4px; font: inherit; margin-bottom: 8px; }
  #code { display: block; font: 14px/1.4 monospace; background: #f2f3f3; padding: 10px;
    border-radius: 4px; word-break: break-all; margin: 12px 0; }
  .actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 16px; }
`;

/** A complete page. */
function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>aws-login <span>emulator</span> · AWS Sign-In</header>
<main>
${body}
</main>
</body>
</html>
`;
}

/** An HTML response with the headers every page gets. */
export function htmlResponse(html: string, status = 200): Response {
  return new Response(html, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-frame-options": "DENY",
    },
  });
}

/** The sign-in page: pick an identity, type another ARN, or cancel. */
export function signInPage(p: {
  requestId: string;
  accounts: readonly Account[];
  crossDevice: boolean;
}): string {
  const hidden = `<input type="hidden" name="request_id" value="${escapeHtml(p.requestId)}">`;
  const items = p.accounts.map((account, i) => {
    const arn = escapeHtml(account.arn);
    const accountId = account.arn.split(":")[4] ?? "";
    return `    <li><button type="submit" class="identity" id="identity-${i}" name="arn" ` +
      `value="${arn}" data-arn="${arn}">` +
      `<span class="name">${escapeHtml(account.name ?? account.arn.split(":").pop()!)}</span>` +
      `<span class="arn">${arn}</span>` +
      `<span class="account">Account ${escapeHtml(accountId)}</span></button></li>`;
  }).join("\n");
  const device = p.crossDevice ? "another device" : "this device";
  return layout(
    "Sign in",
    `<h1>Sign in</h1>
<p>An application on ${device} (AWS CLI login) asks to use your console session.
Select the session to sign in with.</p>
<form id="select-account" method="post" action="/v1/authorize">
  ${hidden}
  <ul class="sessions">
${items}
  </ul>
</form>
<form id="sign-in" method="post" action="/v1/authorize">
  ${hidden}
  <label for="arn">Or sign in as another identity (ARN)</label>
  <input type="text" id="arn" name="arn" required autocomplete="off"
    placeholder="arn:aws:iam::123456789012:user/Alice">
  <div class="actions"><button type="submit" id="sign-in-submit">Sign in</button></div>
</form>
<form id="deny" method="post" action="/v1/authorize">
  ${hidden}
  <input type="hidden" name="action" value="deny">
  <div class="actions"><button type="submit" id="cancel">Cancel</button></div>
</form>
<p class="muted">Local emulator: no AWS account is used and nothing leaves this machine.</p>`,
  );
}

/** The cross-device confirmation page showing the verification code to paste into the CLI. */
export function confirmationPage(verificationCode: string): string {
  return layout(
    "Verification code",
    `<h1 id="confirmed">Sign-in approved</h1>
<p>Copy this verification code and paste it where the AWS CLI asks for it.</p>
<code id="code">${escapeHtml(verificationCode)}</code>
<div class="actions"><button type="button" id="copy" class="primary">Copy code</button></div>
<p class="muted">The code works once, within 5 minutes.</p>
<script>
  document.getElementById("copy").addEventListener("click", () =>
    navigator.clipboard.writeText(document.getElementById("code").textContent));
</script>`,
  );
}

/** The page after "Cancel" in the cross-device flow. */
export function deniedPage(): string {
  return layout(
    "Sign-in cancelled",
    `<h1 id="denied">Sign-in cancelled</h1>
<p>You cancelled the sign-in. You can close this window.</p>`,
  );
}

/** An error page that does not redirect. */
export function errorPage(error: string, description: string): string {
  return layout(
    "Sign-in error",
    `<h1 id="error">${escapeHtml(error)}</h1>
<p id="error-description">${escapeHtml(description)}</p>
<p class="muted">Start the sign-in again from the command line.</p>`,
  );
}

/**
 * The emulator's "console" after a federation sign-in: who is signed in, where the sign-in asked to
 * go, and when the console session ends — `h1#console`, `#identity`, `#destination`,
 * `#session-ends` — so a browser test can see where it landed.
 */
export function consolePage(arn: string, destination: string, sessionEndsAt: number): string {
  return layout(
    "AWS Management Console (emulator)",
    `<h1 id="console">AWS Management Console</h1>
<p>Signed in as <span id="identity" class="arn">${escapeHtml(arn)}</span></p>
<p>Destination: <span id="destination" class="arn">${escapeHtml(destination)}</span></p>
<p class="muted">Console session ends <span id="session-ends">${
      new Date(sessionEndsAt).toISOString()
    }</span></p>`,
  );
}

/** The page of a federation sign-in the emulator refuses (`h1#error`, `#error-description`). */
export function federationErrorPage(error: string, description: string): string {
  return layout(
    "Console sign-in error",
    `<h1 id="error">${escapeHtml(error)}</h1>
<p id="error-description">${escapeHtml(description)}</p>`,
  );
}
