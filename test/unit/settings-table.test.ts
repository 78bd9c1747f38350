import { describe, expect, it } from 'vitest';
import { generatedReadme, readmeWithSettings } from '../../scripts/settings-table.js';

describe("README's settings table", () => {
  it('is the table generated from the config schema and config/default.json', async () => {
    const { current, generated } = await generatedReadme();
    expect(current, 'run npm run docs:settings').toBe(generated);
  });

  it('lists a setting with its variable, secrecy, default and description', async () => {
    const { generated } = await generatedReadme();
    expect(generated).toMatch(
      /\| `wallet\.xprv` +\| `SATWATCH_WALLET_XPRV` \(secret\) +\| — \(signs sweeps in `sign` mode\) +\|/,
    );
    expect(generated).toMatch(/\| `webhooks\.secret` \(deprecated\) +\| `SATWATCH_WEBHOOK_SECRET`/);
    expect(generated).toMatch(/\| `http\.publicUrl` +\| `SATWATCH_PUBLIC_URL` +\| `http:\/\/127/);
  });

  it('refuses a README without the table markers', async () => {
    await expect(readmeWithSettings('# no table\n', {})).rejects.toThrow(/lacks the markers/);
  });
});
