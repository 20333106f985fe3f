/**
 * What the content-source stand-ins (WordPress, Shopify) share as Node HTTP
 * servers: listening on a port and closing with their connections, and reading
 * a request body. The wire details (content types, error bodies) stay in each
 * stand-in: they are the real service's facts.
 */
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listening {
  url: string;
  port: number;
  /** Closes the server, ending keep-alive and in-flight connections first. */
  close(): Promise<void>;
}

/** Listens on `port` (0: any free one) at `host` (default 127.0.0.1). */
export async function listen(server: Server, opts: { port?: number; host?: string }): Promise<Listening> {
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request body as UTF-8 text. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
