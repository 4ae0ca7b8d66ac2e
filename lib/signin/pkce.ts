/**
 * PKCE (RFC 7636) for the authorization request: the code verifier, its S256 challenge, the `state`
 * value, and the base64url codec the client and the emulator share. WebCrypto only.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636
 * @module
 */

/** The unreserved characters a verifier is made of (RFC 7636 §4.1). */
export const VERIFIER_ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/**
 * A new code verifier: 64 characters drawn uniformly from the unreserved set, as the AWS CLI makes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export function createCodeVerifier(length = 64): string {
  let out = "";
  // 66 symbols: reject bytes >= 198 (3 × 66) so every symbol is equally likely.
  const limit = 256 - (256 % VERIFIER_ALPHABET.length);
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) {
        out += VERIFIER_ALPHABET[byte % VERIFIER_ALPHABET.length];
      }
    }
  }
  return out;
}

/**
 * The S256 code challenge: base64url(SHA-256(ASCII(verifier))), without padding.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export async function codeChallengeS256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

/** A new `state` value: a random UUIDv4 string, compared exactly on the way back. */
export function createState(): string {
  return crypto.randomUUID();
}

/** base64url without padding (RFC 4648 §5). */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Decodes base64url, with or without padding.
 *
 * @throws {SyntaxError} When `text` is not base64url.
 */
export function base64UrlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.replace(/=+$/, "").length % 4 === 1) {
    throw new SyntaxError("Cannot decode base64url: invalid characters or length");
  }
  const base64 = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
