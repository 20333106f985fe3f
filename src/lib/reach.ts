import ipaddr from "ipaddr.js";

/**
 * The one SSRF check for URLs a tenant gives the gateway to call (a connector's site, an Azure
 * OpenAI endpoint). Production allows https on public hosts only; local development may allow
 * loopback http (the stand-ins) through a setting that production refuses to start with.
 */
export interface LoopbackPolicy {
  /** Local development only (refused in production): http and loopback hosts. */
  allowLoopback: boolean;
}

/** Host names that name the local machine, a private zone or a cloud metadata service. */
const PRIVATE_NAME = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/i;

/**
 * Why `raw` (a base URL given by a tenant) may not be reached, or null when it may. Refuses:
 * other schemes, credentials in the URL, IP literals outside public unicast space (loopback,
 * private, link-local — which holds the cloud metadata address —, CGNAT, unique-local, mapped
 * IPv4 of those…), single-label and private-zone names. Names are not resolved here (Workers
 * have no DNS API); a Worker's fetch leaves from Cloudflare's edge, where a public name
 * resolving to a private address reaches nothing of ours.
 */
export function urlProblem(raw: string, policy: LoopbackPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (policy.allowLoopback && isLoopbackHost(host)) {
    return url.protocol === "http:" || url.protocol === "https:" ? null : "must be an http(s) URL";
  }
  if (url.protocol !== "https:") return "must be an https URL";
  if (ipaddr.isValid(host)) {
    let addr = ipaddr.parse(host);
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    }
    return addr.range() === "unicast" ? null : "must be a public host (not a loopback, private or link-local address)";
  }
  if (!host.includes(".") || PRIVATE_NAME.test(host)) return "must be a public host name";
  return null;
}

/** `localhost` (and its subdomains) or a loopback IP literal (brackets already removed). */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  return ipaddr.isValid(host) && ipaddr.parse(host).range() === "loopback";
}
