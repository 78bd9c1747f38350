/** The daemon and its CLI as an operator runs them: real processes, configured by environment. */
import { describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../src/api/auth.js';
import { LabClient } from '../lab/client.js';
import { freePort } from '../lab/process.js';
import { newTestWallet } from '../support/daemon.js';
import { spawnSatwatch, untilServing } from '../support/satwatch-process.js';

const BIP84_ZPUB =
  'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';

const satwatch = spawnSatwatch;

describe('satwatch serve', () => {
  it('serves the API on the configured port, creates a payment, and exits 0 on SIGTERM', async () => {
    const lab = LabClient.fromState();
    const port = await freePort();
    const key = newApiKey();
    const run = satwatch(['serve'], {
      SATWATCH_HTTP_PORT: String(port),
      SATWATCH_MONGO_URL: lab.mongoUrl,
      SATWATCH_MONGO_DATABASE: `proc_${port}`,
      SATWATCH_WALLET_XPUB: newTestWallet().vpub,
      SATWATCH_CHAIN_ESPLORA_URLS: lab.esploraUrl,
      SATWATCH_API_KEYS: JSON.stringify([
        { id: 'shop', role: 'merchant', sha256: hashApiKey(key) },
      ]),
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await untilServing(`${base}/healthz`, run.exited);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const res = await fetch(`${base}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          userId: 'u1',
          price: { amount: '10000', currency: 'SAT' },
          credits: 1,
        }),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { address: string }).address).toMatch(/^bcrt1q/);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.output().stdout + run.output().stderr).not.toContain(key);
  });

  it('refuses to start with a key for another network, naming the setting', async () => {
    const run = satwatch(['serve'], {
      SATWATCH_NETWORK: 'regtest',
      SATWATCH_WALLET_XPUB: BIP84_ZPUB,
    });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr.trim()).toBe(
      'wallet.xpub: is a mainnet key (zpub) but the network is regtest',
    );
  });

  it('refuses a malformed setting, naming it', async () => {
    const run = satwatch(['serve'], {
      SATWATCH_WALLET_XPUB: newTestWallet().vpub,
      SATWATCH_PAYMENTS_REQUIRED_CONFIRMATIONS: 'three',
    });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toContain(
      'SATWATCH_PAYMENTS_REQUIRED_CONFIRMATIONS must be an integer',
    );
  });
});

describe('satwatch derive', () => {
  it('prints receive addresses matching the BIP84 test vectors', async () => {
    const run = satwatch(['derive', '0', '2'], {
      SATWATCH_NETWORK: 'mainnet',
      SATWATCH_WALLET_XPUB: BIP84_ZPUB,
    });
    expect(await run.exited).toBe(0);
    expect(run.output().stdout.trim().split('\n')).toEqual([
      "# mainnet p2wpkh account m/84'/0'/0', receive chain",
      // The zpub carries no master fingerprint, so the descriptor has no key origin.
      '# descriptor wpkh(xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V/0/*)#kj7aqcx6',
      "m/84'/0'/0'/0/0\tbc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
      "m/84'/0'/0'/0/1\tbc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
    ]);
  });
});
