/**
 * The emulator's ID tokens: ES384 JWTs with a `kid`, like the AWS CLI's fixture, claims `sub` and
 * `session_arn` (the login session ARN), `aud` (`arn:aws:signin:::cli/same-device` or
 * `…/cross-device`), `iss`, `iat`, `exp`. One key per emulator; its public half is served as a JWKS
 * so a test can verify the tokens.
 *
 * @see docs/PROTOCOL.md §6
 * @module
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { CROSS_DEVICE_CLIENT_ID } from "./state.ts";

/** Signs ID tokens with one ES384 key. */
export interface IdTokenSigner {
  /** The signing key's id (the tokens' header `kid`). */
  readonly kid: string;
  /** A signed ID token for `arn`, issued by `issuer` to the client `clientId`. */
  sign(
    p: { arn: string; clientId: string; issuer: string; nowMs: number; ttlSeconds: number },
  ): Promise<string>;
  /** The public key as a JWK Set. */
  jwks(): { keys: JWK[] };
}

/** Makes a signer with a new ES384 key. */
export async function createIdTokenSigner(): Promise<IdTokenSigner> {
  const { privateKey, publicKey } = await generateKeyPair("ES384", { extractable: true });
  const kid = crypto.randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "ES384", use: "sig" };
  return {
    kid,
    async sign({ arn, clientId, issuer, nowMs, ttlSeconds }) {
      const iat = Math.floor(nowMs / 1000);
      const audience = clientId === CROSS_DEVICE_CLIENT_ID
        ? "arn:aws:signin:::cli/cross-device"
        : "arn:aws:signin:::cli/same-device";
      return await new SignJWT({ session_arn: arn })
        .setProtectedHeader({ alg: "ES384", kid, typ: "JWT" })
        .setSubject(arn)
        .setAudience(audience)
        .setIssuer(issuer)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(privateKey);
    },
    jwks: () => ({ keys: [{ ...publicJwk }] }),
  };
}
