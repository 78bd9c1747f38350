/** What tests (and the sandbox) use to drive the running lab. */
import { readLabState, btcdRpc, type LabState } from './lab.js';
import type { PaidTx, PayOptions } from './payer.js';
import type { BtcdRpc } from './rpc.js';
import type { FaultConfig, FaultStats } from './esplora/faults.js';

export class LabClient {
  readonly rpc: BtcdRpc;
  readonly esploraUrl: string;
  readonly mongoUrl: string;
  readonly payerAddress: string;

  constructor(readonly state: LabState) {
    this.rpc = btcdRpc(state);
    this.esploraUrl = state.esplora.url;
    this.mongoUrl = state.mongo.url;
    this.payerAddress = state.payer.address;
  }

  static fromState(): LabClient {
    const state = readLabState();
    if (!state?.esplora) throw new Error('the lab is not running: start it with "npm run lab:up"');
    return new LabClient(state);
  }

  private async control<T>(method: string, path: string, body?: unknown): Promise<T> {
    // Files of the parallel integration project run beside each other on one chain and one
    // facade: a file that mines, pays, reorgs or sets lab-wide state belongs in the serial one.
    if (method !== 'GET' && process.env.LAB_PARALLEL_FILE === '1') {
      throw new Error(
        `lab ${method} ${path} changes shared lab state; move this file out of the parallel ` +
          'integration project (vitest.config.ts)',
      );
    }
    const res = await fetch(`${this.esploraUrl}/_lab/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`lab ${method} ${path} failed (${res.status}): ${text}`);
    return JSON.parse(text) as T;
  }

  pay(address: string, sats: number, options: PayOptions = {}): Promise<PaidTx> {
    return this.payMany([{ address, sats }], options);
  }

  payMany(outputs: { address: string; sats: number }[], options: PayOptions = {}): Promise<PaidTx> {
    return this.control('POST', 'pay', { outputs, ...options });
  }

  /** Replaces an RBF payment; by default the money goes back to the payer. */
  replace(
    txid: string,
    options: { outputs?: { address: string; sats: number }[]; feeRate?: number } = {},
  ): Promise<PaidTx> {
    return this.control('POST', 'replace', { txid, ...options });
  }

  async mine(blocks = 1): Promise<string[]> {
    return (await this.control<{ hashes: string[] }>('POST', 'mine', { blocks })).hashes;
  }

  async invalidateBlock(hash: string): Promise<number> {
    return (await this.control<{ tip: number }>('POST', 'invalidate', { hash })).tip;
  }

  async reconsiderBlock(hash: string): Promise<number> {
    return (await this.control<{ tip: number }>('POST', 'reconsider', { hash })).tip;
  }

  /** Creates (or replaces) a fault profile; returns the esplora base URL that applies it. */
  async faults(name: string, config: FaultConfig): Promise<string> {
    const { path } = await this.control<{ path: string }>('PUT', `faults/${name}`, config);
    return `${this.esploraUrl}${path}`;
  }

  faultStats(name: string): Promise<FaultStats> {
    return this.control('GET', `faults/${name}`);
  }

  async clearFaults(name: string): Promise<void> {
    await this.control('DELETE', `faults/${name}`);
  }

  async setFeeEstimates(estimates: Record<string, number> | null): Promise<void> {
    await this.control('PUT', 'fee-estimates', { estimates });
  }

  tipHeight(): Promise<number> {
    return this.rpc.call<number>('getblockcount');
  }
}
