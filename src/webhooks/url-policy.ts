/**
 * Where webhook endpoints may point. By default: https only, and never at loopback, link-local,
 * private, unique-local, carrier-grade NAT, multicast or reserved addresses, checked when the URL
 * is given and again on every delivery, on the addresses the host resolves to then (so a name
 * that later resolves inward, DNS rebinding, is refused at connect time). The operator setting
 * `webhooks.allowPrivateUrls` lifts both rules, for tests and internal hooks.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export class WebhookUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlError';
  }
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
  ['100::', 64],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for an address a public webhook must not reach (IPv4-mapped IPv6 judged as IPv4). */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped !== undefined) return isPrivateAddress(mapped);
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    // ::ffff:7f00:1 and the like: the hex form of a mapped IPv4 address.
    const [, high, low] = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare) ?? [];
    if (high !== undefined && low !== undefined) {
      const hi = parseInt(high, 16);
      const lo = parseInt(low, 16);
      return isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    return blocked.check(bare, 'ipv6');
  }
  return false;
}

export interface UrlPolicy {
  allowPrivateUrls: boolean;
}

/**
 * Checks a webhook URL's form: absolute, https (http too when private URLs are allowed), no
 * fragment, and, by default, not a loopback or private literal address nor `localhost`.
 * Returns the URL normalised by WHATWG parsing. Throws WebhookUrlError saying why.
 */
export function checkWebhookUrl(text: string, policy: UrlPolicy): string {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new WebhookUrlError(`url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError('url must be an absolute URL');
  }
  const allowed = policy.allowPrivateUrls ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(url.protocol)) {
    throw new WebhookUrlError(
      policy.allowPrivateUrls
        ? 'url must be http or https'
        : 'url must be https (http only with webhooks.allowPrivateUrls)',
    );
  }
  if (url.hash !== '') throw new WebhookUrlError('url must not have a fragment');
  if (!policy.allowPrivateUrls) {
    const host = url.hostname.toLowerCase();
    if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) {
      throw new WebhookUrlError(
        'url must not point at a loopback, link-local or private address (see webhooks.allowPrivateUrls)',
      );
    }
  }
  return url.toString();
}

/** DNS lookup that fails when the host resolves to a private address. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, '', 4);
      return;
    }
    const inward = addresses.find((a) => isPrivateAddress(a.address));
    if (inward || addresses.length === 0) {
      const refused: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to a private address; refused (webhooks.allowPrivateUrls is off)`,
      );
      refused.code = 'EPRIVATEADDRESS';
      callback(refused, '', 4);
      return;
    }
    if (options.all) {
      callback(null, addresses);
    } else {
      const [first] = addresses;
      if (first) callback(null, first.address, first.family);
    }
  });
};

/** HTTP agents for deliveries: with private URLs refused, every connect goes through the check. */
export function deliveryAgents(policy: UrlPolicy): {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
} {
  if (policy.allowPrivateUrls)
    return { httpAgent: new http.Agent(), httpsAgent: new https.Agent() };
  return {
    httpAgent: new http.Agent({ lookup: publicOnlyLookup }),
    httpsAgent: new https.Agent({ lookup: publicOnlyLookup }),
  };
}
