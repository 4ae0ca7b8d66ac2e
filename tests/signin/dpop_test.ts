import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from "jose";
import {
  createDpopProof,
  exportDpopKeyPem,
  generateDpopKey,
  htuOf,
  importDpopKeyPem,
  jwkThumbprint,
} from "../../lib/signin/dpop.ts";
import thumbprints from "../vectors/rfc7638_thumbprint.json" with { type: "json" };
import cliKeys from "../vectors/aws_cli_dpop_key.json" with { type: "json" };

for (const vector of thumbprints) {
  Deno.test(`jwkThumbprint() matches ${vector.title}`, async () => {
    assert.equal(await jwkThumbprint(vector.input.jwk), vector.output.thumbprint);
  });
}

for (const vector of cliKeys) {
  Deno.test(`importDpopKeyPem() reads the ${vector.title}`, async () => {
    const key = await importDpopKeyPem(vector.input.pem);
    assert.deepEqual(key.publicJwk, {
      kty: "EC",
      crv: "P-256",
      x: vector.output.x,
      y: vector.output.y,
    });
    assert.equal(await jwkThumbprint(key.publicJwk), vector.output.jkt);
    // Our SEC1 export of the same key is byte-for-byte the PEM OpenSSL wrote.
    assert.equal(await exportDpopKeyPem(key), vector.input.pem);
  });
}

Deno.test("exportDpopKeyPem() writes SEC1 that node:crypto reads as the same key", async () => {
  const key = await generateDpopKey();
  const pem = await exportDpopKeyPem(key);
  assert.match(
    pem,
    /^-----BEGIN EC PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END EC PRIVATE KEY-----\n$/,
  );
  for (const line of pem.split("\n").slice(1, -3)) assert.equal(line.length, 64);
  const nodeKey = createPrivateKey({ key: pem, format: "pem", type: "sec1" });
  const jwk = nodeKey.export({ format: "jwk" });
  assert.equal(jwk.crv, "P-256");
  assert.equal(jwk.x, key.publicJwk.x);
  assert.equal(jwk.y, key.publicJwk.y);
  assert.equal(nodeKey.export({ format: "pem", type: "sec1" }), pem);
});

Deno.test("importDpopKeyPem() reads node:crypto's SEC1 and PKCS#8 exports of one key", async () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const expected = privateKey.export({ format: "jwk" });
  for (const type of ["sec1", "pkcs8"] as const) {
    const key = await importDpopKeyPem(privateKey.export({ format: "pem", type }) as string);
    assert.equal(key.publicJwk.x, expected.x, type);
    assert.equal(key.publicJwk.y, expected.y, type);
    const proof = await createDpopProof(key, { htm: "POST", htu: "https://h/v1/token" });
    await jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: ["ES256"] });
  }
});

Deno.test("importDpopKeyPem() derives the public point of a SEC1 key stored without it", async () => {
  // RFC 5915 makes the publicKey field optional; OpenSSL and the AWS CLI write it, others may not.
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" });
  const d = Uint8Array.from(
    atob(jwk.d!.replace(/-/g, "+").replace(/_/g, "/")),
    (c) => c.charCodeAt(0),
  );
  const p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
  const body = [0x02, 0x01, 0x01, 0x04, 0x20, ...d, 0xa0, p256.length, ...p256];
  const der = String.fromCharCode(0x30, body.length, ...body);
  const key = await importDpopKeyPem(
    `-----BEGIN EC PRIVATE KEY-----\n${btoa(der)}\n-----END EC PRIVATE KEY-----\n`,
  );
  assert.deepEqual(key.publicJwk, { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y });
  const proof = await createDpopProof(key, { htm: "POST", htu: "https://h/v1/token" });
  await jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: ["ES256"] });
});

Deno.test("importDpopKeyPem() refuses what is not a P-256 private key, without echoing it", async () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
  const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
  const good = await exportDpopKeyPem(await generateDpopKey());
  const cases = {
    empty: "",
    garbage: "hello",
    rsa: rsa.export({ format: "pem", type: "pkcs8" }) as string,
    p384Sec1: p384.export({ format: "pem", type: "sec1" }) as string,
    p384Pkcs8: p384.export({ format: "pem", type: "pkcs8" }) as string,
    truncated: good.slice(0, 60) + good.slice(-30),
  };
  for (const [name, pem] of Object.entries(cases)) {
    await assert.rejects(() => importDpopKeyPem(pem), (err) => {
      assert.ok(err instanceof SyntaxError, name);
      assert.match(err.message, /^Cannot read the DPoP key/, name);
      assert.ok(!err.message.includes("MHc"), name);
      return true;
    });
  }
});

Deno.test("createDpopProof() signs every header member and claim RFC 9449 asks for", async () => {
  const key = await generateDpopKey();
  const proof = await createDpopProof(key, {
    htm: "POST",
    htu: "http://127.0.0.1:37629/pfx/v1/token?x=1#frag",
    iat: 1_700_000_000,
  });
  const header = decodeProtectedHeader(proof);
  assert.deepEqual(header, { typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk });
  assert.ok(!("d" in (header.jwk as object)));
  const claims = decodeJwt(proof);
  assert.deepEqual(Object.keys(claims).sort(), ["htm", "htu", "iat", "jti"]);
  assert.equal(claims.htm, "POST");
  assert.equal(claims.htu, "http://127.0.0.1:37629/pfx/v1/token");
  assert.equal(claims.iat, 1_700_000_000);
  assert.match(
    claims.jti as string,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  const { payload } = await jwtVerify(proof, EmbeddedJWK, {
    typ: "dpop+jwt",
    algorithms: ["ES256"],
    currentDate: new Date(1_700_000_000_000),
  });
  assert.equal(payload.htm, "POST");
  // The signature is raw r||s (64 bytes), not DER.
  assert.equal(atob(proof.split(".")[2]!.replace(/-/g, "+").replace(/_/g, "/")).length, 64);
});

Deno.test("createDpopProof() adds a nonce only when given and a fresh jti every call", async () => {
  const key = await generateDpopKey();
  const a = decodeJwt(await createDpopProof(key, { htm: "POST", htu: "https://h/t", nonce: "n1" }));
  const b = decodeJwt(await createDpopProof(key, { htm: "POST", htu: "https://h/t" }));
  assert.equal(a.nonce, "n1");
  assert.equal("nonce" in b, false);
  assert.notEqual(a.jti, b.jti);
  assert.ok(Math.abs((b.iat as number) - Date.now() / 1000) < 5);
});

Deno.test("htuOf() keeps scheme, host, explicit port and path; drops query and fragment", () => {
  assert.equal(
    htuOf("http://127.0.0.1:37629/pfx/v1/token?x=1#f"),
    "http://127.0.0.1:37629/pfx/v1/token",
  );
  assert.equal(
    htuOf("https://us-east-1.signin.aws.amazon.com/v1/token"),
    "https://us-east-1.signin.aws.amazon.com/v1/token",
  );
  assert.equal(htuOf("https://h:443/v1/token"), "https://h/v1/token");
});
