/**
 * Fault profiles for reliability tests. A profile is reached through its own base URL
 * (`/faults/<name>/...`), so tests never disturb each other; the plain root stays healthy.
 */
export interface FaultConfig {
  /** Added delay before every answer, in ms. */
  latencyMs?: number;
  /** Probabilities in [0, 1], rolled in this order; their sum must not exceed 1. */
  rate429?: number;
  rate5xx?: number;
  rateTimeout?: number;
  rateTruncated?: number;
  rateMalformed?: number;
  /** How long a "timeout" holds the connection before dropping it (default 30 s). */
  timeoutHoldMs?: number;
  /** Only paths matching this regular expression get faults (default: all). */
  pathPattern?: string;
  /** Seed for a reproducible fault sequence. */
  seed?: number;
}

export type FaultKind = 'none' | '429' | '5xx' | 'timeout' | 'truncated' | 'malformed';

export interface FaultStats {
  requests: number;
  injected: Record<Exclude<FaultKind, 'none'>, number>;
}

/** mulberry32: small, fast, good enough to make fault sequences reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultProfile {
  readonly stats: FaultStats = {
    requests: 0,
    injected: { '429': 0, '5xx': 0, timeout: 0, truncated: 0, malformed: 0 },
  };
  private readonly random: () => number;
  private readonly pattern: RegExp | undefined;

  constructor(readonly config: FaultConfig) {
    const total =
      (config.rate429 ?? 0) +
      (config.rate5xx ?? 0) +
      (config.rateTimeout ?? 0) +
      (config.rateTruncated ?? 0) +
      (config.rateMalformed ?? 0);
    if (total > 1 + 1e-9) throw new Error(`fault rates add up to ${total} > 1`);
    this.random = config.seed === undefined ? Math.random : prng(config.seed);
    this.pattern = config.pathPattern === undefined ? undefined : new RegExp(config.pathPattern);
  }

  roll(path: string): FaultKind {
    this.stats.requests++;
    if (this.pattern && !this.pattern.test(path)) return 'none';
    const r = this.random();
    const c = this.config;
    const buckets: [Exclude<FaultKind, 'none'>, number | undefined][] = [
      ['429', c.rate429],
      ['5xx', c.rate5xx],
      ['timeout', c.rateTimeout],
      ['truncated', c.rateTruncated],
      ['malformed', c.rateMalformed],
    ];
    let edge = 0;
    for (const [kind, rate] of buckets) {
      edge += rate ?? 0;
      if (r < edge) {
        this.stats.injected[kind]++;
        return kind;
      }
    }
    return 'none';
  }
}
