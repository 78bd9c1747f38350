import { describe, expect, it } from 'vitest';
import {
  WebhookUrlError,
  checkWebhookUrl,
  isPrivateAddress,
  publicOnlyLookup,
} from '../../src/webhooks/url-policy.js';

const strict = { allowPrivateUrls: false };
const open = { allowPrivateUrls: true };

describe('webhook URL policy', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc12::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '[::1]',
  ])('calls %s private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'calls %s public',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );

  it('accepts public https URLs only, by default', () => {
    expect(checkWebhookUrl('https://hooks.example.com/satwatch', strict)).toBe(
      'https://hooks.example.com/satwatch',
    );
    for (const url of [
      'http://hooks.example.com/x',
      'https://127.0.0.1/x',
      'https://localhost/x',
      'https://api.localhost/x',
      'https://[::1]:8443/x',
      'https://10.0.0.5/x',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:127.0.0.1]/x',
      'ftp://example.com/x',
      'not a url',
      'https://example.com/x#frag',
    ]) {
      expect(() => checkWebhookUrl(url, strict), url).toThrow(WebhookUrlError);
    }
  });

  it('allows http and private addresses when the operator says so', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', open)).toBe('http://127.0.0.1:8080/hook');
    expect(() => checkWebhookUrl('ftp://127.0.0.1/x', open)).toThrow(WebhookUrlError);
  });

  it('refuses at connect time a name that resolves to a private address', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      publicOnlyLookup('localhost', {}, (err) => {
        resolve(err);
      });
    });
    expect(error?.code).toBe('EPRIVATEADDRESS');
  });
});
