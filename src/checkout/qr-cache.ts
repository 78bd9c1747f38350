/**
 * QR codes drawn once and kept: drawing one costs milliseconds of CPU, and a checkout page is
 * requested again and again by the same payer. Keyed by the QR's content, so a partial
 * payment's rest (another amount, another BIP21) is another entry; bounded by count and size.
 */
import { LRUCache } from 'lru-cache';
import QRCode from 'qrcode';

export interface QrCacheOptions {
  /** Most codes kept (least recently used go first). */
  maxEntries?: number;
  /** Most SVG characters kept in all. */
  maxChars?: number;
  /** How a code is drawn (default drawQr; tests count the calls). */
  draw?: (content: string) => Promise<string>;
}

export class QrCache {
  private readonly cache: LRUCache<string, string>;
  private readonly draw: (content: string) => Promise<string>;

  constructor(options: QrCacheOptions = {}) {
    const draw = options.draw ?? drawQr;
    this.draw = draw;
    this.cache = new LRUCache<string, string>({
      max: options.maxEntries ?? 2000,
      maxSize: options.maxChars ?? 32_000_000,
      sizeCalculation: (svg) => svg.length,
      // Concurrent requests for one content share a single drawing.
      fetchMethod: (content) => draw(content),
    });
  }

  async svg(content: string): Promise<string> {
    const svg = await this.cache.fetch(content);
    // fetchMethod always returns a string; undefined only if the entry was aborted.
    return svg ?? this.draw(content);
  }

  get size(): number {
    return this.cache.size;
  }
}

/** Quiet zone of 4 modules, as ISO/IEC 18004 asks: scanners find the code's edge reliably. */
export function drawQr(content: string): Promise<string> {
  return QRCode.toString(content, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}
