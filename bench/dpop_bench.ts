/**
 * In-process cost of the refresh path's crypto: importing the cached SEC1 key and signing a DPoP
 * proof (jose, ES256). Run by `deno task bench` through `deno bench`.
 *
 * @module
 */
import {
  createDpopProof,
  exportDpopKeyPem,
  generateDpopKey,
  importDpopKeyPem,
} from "../lib/signin/dpop.ts";

const key = await generateDpopKey();
const pem = await exportDpopKeyPem(key);
const htu = "https://us-east-1.signin.aws.amazon.com/v1/token";
await createDpopProof(key, { htm: "POST", htu }); // load jose once, outside the timings

Deno.bench("import the cached dpopKey (SEC1 PEM)", { group: "dpop" }, async () => {
  await importDpopKeyPem(pem);
});

Deno.bench("sign a DPoP proof (ES256)", { group: "dpop", baseline: true }, async () => {
  await createDpopProof(key, { htm: "POST", htu });
});
