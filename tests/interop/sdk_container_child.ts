/**
 * The command `aws-login exec` runs in `container_sdk_test.ts`: the official AWS SDK for JavaScript
 * with its default credential chain (`fromNodeProviderChain`), which finds only the container
 * credentials endpoint in this environment. It calls STS GetCallerIdentity `CALLS` times, each time
 * after the credentials of the previous call have expired, then tries the first credentials again.
 * One JSON line per step on stdout. Not a test module itself.
 *
 * Usage: sdk_container_child.ts STS_ENDPOINT CALLS
 */
import { defaultProvider, GetCallerIdentityCommand, STSClient } from "../dev_deps.ts";

type AwsCredentialIdentity = Awaited<ReturnType<ReturnType<typeof defaultProvider>>>;
const [endpoint, calls] = Deno.args;
const print = (line: unknown) => console.log(JSON.stringify(line));

print({
  staticKeys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"].filter((name) =>
    Deno.env.get(name) !== undefined
  ),
  endpoint: Deno.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") !== undefined,
});

// Every identity the chain hands out, to learn the expiry of the one a request was signed with.
const chain = defaultProvider();
const handedOut: AwsCredentialIdentity[] = [];
const sts = new STSClient({
  region: "us-east-1",
  endpoint,
  credentials: async (options) => {
    const identity = await chain(options);
    handedOut.push(identity);
    return identity;
  },
});
let signedWith = "";
sts.middlewareStack.add(
  (next) => (args) => {
    const headers = (args.request as { headers: Record<string, string> }).headers;
    signedWith = /Credential=([^/]+)\//.exec(headers.authorization ?? "")?.[1] ?? "";
    return next(args);
  },
  { step: "deserialize", name: "recordSigningKey" },
);

const used: AwsCredentialIdentity[] = [];
try {
  for (let call = 1; call <= Number(calls); call++) {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    const credentials = handedOut.findLast((c) => c.accessKeyId === signedWith)!;
    used.push(credentials);
    const expiration = credentials.expiration!;
    print({ call, arn: identity.Arn, accessKeyId: signedWith, expiration, at: new Date() });
    if (call < Number(calls)) {
      await new Promise((r) => setTimeout(r, expiration.getTime() - Date.now() + 500));
    }
  }
} finally {
  sts.destroy();
}

// The first credentials are past their expiry: STS refuses them, so the later calls succeeded
// only because the endpoint handed out new ones.
const first = new STSClient({
  region: "us-east-1",
  endpoint,
  credentials: { ...used[0]!, expiration: undefined },
});
try {
  await first.send(new GetCallerIdentityCommand({}));
  print({ first: "accepted" });
} catch (err) {
  print({ first: (err as Error).name });
} finally {
  first.destroy();
}
