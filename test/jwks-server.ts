import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK } from "jose";

export const JWKS_ALGS = ["ES256", "RS256", "EdDSA"] as const;

/** An identity provider's JWKS endpoint for tests: public keys served, private keys handed to the tests that sign. */
export async function startJwksServer() {
  const privateKeys: Record<string, JWK> = {};
  const publicKeys: JWK[] = [];
  for (const alg of JWKS_ALGS) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `test-${alg.toLowerCase()}`;
    privateKeys[alg] = { ...(await exportJWK(privateKey)), kid, alg };
    publicKeys.push({ ...(await exportJWK(publicKey)), kid, alg, use: "sig" });
  }
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: publicKeys }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    privateKeys,
    requests: () => requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
