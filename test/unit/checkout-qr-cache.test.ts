/** The checkout's QR codes: drawn once per content, bounded, with a 4-module quiet zone. */
import { describe, expect, it } from 'vitest';
import { QrCache, drawQr } from '../../src/checkout/qr-cache.js';

describe('QR cache', () => {
  it('draws a content once however often and however concurrently it is asked for', async () => {
    const drawn: string[] = [];
    const cache = new QrCache({
      draw: (content) => {
        drawn.push(content);
        return drawQr(content);
      },
    });
    const first = await Promise.all([
      cache.svg('BITCOIN:A?amount=1'),
      cache.svg('BITCOIN:A?amount=1'),
    ]);
    const again = await cache.svg('BITCOIN:A?amount=1');
    expect(first[0]).toBe(again);
    expect(first[1]).toBe(again);
    expect(drawn).toEqual(['BITCOIN:A?amount=1']);
  });

  it('keys by content: a partial payment rest is another code', async () => {
    const drawn: string[] = [];
    const cache = new QrCache({ draw: (c) => (drawn.push(c), Promise.resolve(`<svg>${c}</svg>`)) });
    const full = await cache.svg('BITCOIN:A?amount=0.0003');
    const rest = await cache.svg('BITCOIN:A?amount=0.0002');
    expect(full).not.toBe(rest);
    expect(drawn).toEqual(['BITCOIN:A?amount=0.0003', 'BITCOIN:A?amount=0.0002']);
  });

  it('keeps at most its bound, dropping the least recently used', async () => {
    const drawn: string[] = [];
    const cache = new QrCache({ maxEntries: 2, draw: (c) => (drawn.push(c), Promise.resolve(c)) });
    await cache.svg('a');
    await cache.svg('b');
    await cache.svg('a');
    await cache.svg('c'); // evicts b, the least recently used
    expect(cache.size).toBe(2);
    await cache.svg('a');
    await cache.svg('b');
    expect(drawn).toEqual(['a', 'b', 'c', 'b']);
  });

  it('draws with a quiet zone of 4 modules on every side', async () => {
    const svg = await drawQr('BITCOIN:BCRT1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KYGT080?amount=0.0003');
    const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
    // The dark modules' path starts 4 modules in (plus half a stroke) and ends 4 before the edge.
    const path = /<path stroke="[^"]+" d="([^"]+)"/.exec(svg)?.[1] ?? '';
    const ys = [...path.matchAll(/M(\d+) (\d+(?:\.5)?)/g)].map((m) => Number(m[2]));
    const xs = [...path.matchAll(/M(\d+) /g)].map((m) => Number(m[1]));
    expect(Math.min(...xs)).toBe(4);
    expect(Math.min(...ys)).toBe(4.5);
    expect(Math.max(...ys)).toBe(size - 4 - 0.5);
  });
});
