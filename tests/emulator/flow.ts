/**
 * Test helper for the emulator tests: valid requests built by hand (authorize URL, DPoP proof,
 * token call) that a test mutates one thing at a time, so each refusal is about one rule.
 *
 * @module
 */
import {
  type Emulator,
  type EmulatorOptions,
  startEmulator as start,
} from "../../lib/emulator/server.ts";
import { type DpopKey, generateDpopKey } from "../../lib/signin/dpop.ts";
import { closeAtDeadline } from "../helpers/bounded.ts";
import { base64UrlEncode, codeChallengeS256, createCodeVerifier } from "../../lib/signin/pkce.ts";

export const ARN = "arn:aws:iam::123456789012:user/Alice";
export const SAME_DEVICE = "arn:aws:signin:::devtools/same-device";
export const CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device";
export const CALLBACK = "http://127.0.0.1:53682/oauth/callback";

/** An emulator on a free port, closed at scope end (`await using`) or at its deadline. */
export async function startEmulator(
  options: EmulatorOptions = {},
): Promise<Emulator & AsyncDisposable> {
  return closeAtDeadline(await start({ port: 0, ...options }));
}

const json = (v: unknown) => base64UrlEncode(new TextEncoder().encode(JSON.stringify(v)));

/** Sets or (with undefined) removes members. */
function apply(
  base: Record<string, unknown>,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * A DPoP proof for `POST url`, signed with `key` (ES256); `header` and `claims` change members
 * (undefined removes one), `iatOffsetMs` shifts `iat` (to follow the emulator clock).
 */
export async function proof(
  key: DpopKey,
  url: string,
  options: {
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    iatOffsetMs?: number;
    signature?: string;
  } = {},
): Promise<string> {
  const header = apply(
    { typ: "dpop+jwt", alg: "ES256", jwk: { ...key.publicJwk } },
    options.header,
  );
  const claims = apply({
    jti: crypto.randomUUID(),
    htm: "POST",
    htu: url,
    iat: Math.floor((Date.now() + (options.iatOffsetMs ?? 0)) / 1000),
  }, options.claims);
  const input = `${json(header)}.${json(claims)}`;
  if (options.signature !== undefined) return `${input}.${options.signature}`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64UrlEncode(new Uint8Array(signature))}`;
}

/** The query of a valid authorization request; a null value removes the parameter. */
export function authorizeQuery(
  p: { state: string; challenge: string; clientId?: string; redirectUri?: string },
  changes: Record<string, string | null> = {},
): string {
  const params: Record<string, string | null> = {
    response_type: "code",
    client_id: p.clientId ?? SAME_DEVICE,
    state: p.state,
    code_challenge_method: "SHA-256",
    scope: "openid",
    redirect_uri: p.redirectUri ?? CALLBACK,
    code_challenge: p.challenge,
    ...changes,
  };
  return new URLSearchParams(
    Object.entries(params).filter((e): e is [string, string] => e[1] !== null),
  ).toString();
}

/** What a sign-in hands the client before the code exchange. */
export interface Authorized {
  code: string;
  state: string;
  verifier: string;
  clientId: string;
  redirectUri: string;
}

/**
 * Runs the authorize step of an auto-approving emulator (same-device) and returns the code; the
 * challenge is made from `verifier` (default: a new valid one).
 */
export async function authorize(
  base: string,
  verifier = createCodeVerifier(),
): Promise<Authorized> {
  const state = crypto.randomUUID();
  const query = authorizeQuery({ state, challenge: await codeChallengeS256(verifier) });
  const reply = await fetch(`${base}/v1/authorize?${query}`, { redirect: "manual" });
  await reply.body?.cancel();
  const location = new URL(reply.headers.get("location") ?? "http://invalid/");
  const code = location.searchParams.get("code");
  if (reply.status !== 302 || code === null) throw new Error(`No code (HTTP ${reply.status})`);
  return { code, state, verifier, clientId: SAME_DEVICE, redirectUri: CALLBACK };
}

/** A token call with a JSON body and the given proof (or none). */
export async function tokenCall(
  base: string,
  body: Record<string, string>,
  dpop: string | string[] | undefined,
  client?: Deno.HttpClient,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers = new Headers({ "content-type": "application/json" });
  for (const value of dpop === undefined ? [] : [dpop].flat()) headers.append("DPoP", value);
  const reply = await fetch(`${base}/v1/token`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    client,
  });
  return { status: reply.status, headers: reply.headers, body: await reply.json() };
}

/** The camelCase body of the code exchange. */
export function codeBody(a: Authorized, changes: Record<string, string> = {}) {
  return {
    clientId: a.clientId,
    grantType: "authorization_code",
    code: a.code,
    codeVerifier: a.verifier,
    redirectUri: a.redirectUri,
    ...changes,
  };
}

/** A signed-in session: its DPoP key, refresh token and the code reply. */
export interface SignedIn {
  key: DpopKey;
  refreshToken: string;
  reply: Record<string, unknown>;
}

/** Signs in at an auto-approving emulator and exchanges the code with a new DPoP key. */
export async function signIn(base: string): Promise<SignedIn> {
  const a = await authorize(base);
  const key = await generateDpopKey();
  const r = await tokenCall(base, codeBody(a), await proof(key, `${base}/v1/token`));
  if (r.status !== 200) throw new Error(`Code exchange failed: ${JSON.stringify(r.body)}`);
  return { key, refreshToken: r.body.refreshToken as string, reply: r.body };
}

/** A refresh call with a proof by `key` (iat shifted by `iatOffsetMs`). */
export async function refreshCall(
  base: string,
  key: DpopKey,
  refreshToken: string,
  options: { clientId?: string; iatOffsetMs?: number; client?: Deno.HttpClient } = {},
) {
  return await tokenCall(
    base,
    { clientId: options.clientId ?? SAME_DEVICE, grantType: "refresh_token", refreshToken },
    await proof(key, `${base}/v1/token`, { iatOffsetMs: options.iatOffsetMs }),
    options.client,
  );
}
