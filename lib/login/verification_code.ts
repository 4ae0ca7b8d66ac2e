/**
 * The authorization response of a login, as it comes back from the browser: the verification code a
 * user pastes in the cross-device (`--remote`) flow — standard base64 of the query string
 * `state=…&code=…` — and the `state` check both flows share. The code is a secret: it never appears
 * in a message; `state` is not, and is quoted (sanitised) so the user can compare.
 *
 * @see docs/PROTOCOL.md §3 (cross-device), §12 (paste blob vector)
 * @module
 */
import { LoginError } from "../errors.ts";
import { printable } from "../cli/output.ts";
import { base64UrlDecode } from "../signin/pkce.ts";

/** What a verification code carries. */
export interface AuthorizationResponse {
  readonly state: string;
  /** The authorization code (single use; a secret). */
  readonly code: string;
}

const RETRY = 'Run "aws-login login --remote" again and paste the code shown in the browser.';

/**
 * Decodes a pasted verification code: standard base64 (or base64url) of `state=…&code=…`.
 * Surrounding and embedded whitespace and missing padding are tolerated.
 *
 * @param input The line the user entered.
 * @returns The `state` and `code` it carries.
 * @throws {LoginError} `ERR_LOGIN_CODE` when the text is not base64 of a query string holding a
 *   non-empty `state` and `code`.
 * @see docs/PROTOCOL.md §3
 */
export function decodeVerificationCode(input: string): AuthorizationResponse {
  const compact = input.replace(/\s+/g, "");
  if (compact === "") {
    throw new LoginError("ERR_LOGIN_CODE", `No verification code was entered. ${RETRY}`);
  }
  let text: string;
  try {
    const bytes = base64UrlDecode(compact.replace(/\+/g, "-").replace(/\//g, "_"));
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new LoginError(
      "ERR_LOGIN_CODE",
      `Failed to decode the verification code: it is not the base64 text the browser showed ` +
        `(${compact.length} characters). Copy the whole code, then try again. ${RETRY}`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text) || !text.includes("=")) {
    throw new LoginError(
      "ERR_LOGIN_CODE",
      `Failed to decode the verification code: it does not hold a state and an authorization ` +
        `code. Copy the whole code, then try again. ${RETRY}`,
    );
  }
  const params = new URLSearchParams(text);
  const state = params.get("state") ?? "";
  const code = params.get("code") ?? "";
  if (state === "" || code === "") {
    const missing = [state === "" ? "state" : "", code === "" ? "code" : ""].filter(Boolean);
    throw new LoginError(
      "ERR_LOGIN_CODE",
      `Failed to retrieve an authorization code or state from the verification code ` +
        `(no ${missing.join(" or ")}). ${RETRY}`,
    );
  }
  return { state, code };
}

/**
 * Checks the `state` that came back against the one sent (exact comparison).
 *
 * @param received The `state` of the authorization response.
 * @param expected The `state` of the authorization request.
 * @param hint The next step to name when they differ.
 * @throws {LoginError} `ERR_LOGIN_STATE` when they differ.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 */
export function checkState(received: string, expected: string, hint = RETRY): void {
  if (received === expected) return;
  throw new LoginError(
    "ERR_LOGIN_STATE",
    `State parameter "${displayText(received, 80)}" does not match expected value ` +
      `"${expected}". The code belongs to another sign-in. ${hint}`,
  );
}

/**
 * Untrusted text made safe for a one-line message: unprintable characters and runs of whitespace
 * become one space, and long text is cut at `max` characters (the shared cleaner, `printable`).
 */
export function displayText(raw: string, max = 300): string {
  return printable(raw, max);
}
