import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_FILE, clientTypesSource } from '../../scripts/client-types.js';

describe('the typed client', () => {
  it('has types generated from the OpenAPI document the app serves now (run npm run client:types)', async () => {
    const checkedIn = readFileSync(CLIENT_TYPES_FILE, 'utf8');
    // One assertion, not a diff of 3,000 lines: the fix is always the same command.
    expect(checkedIn === (await clientTypesSource()), 'stale: run `npm run client:types`').toBe(
      true,
    );
  }, 60_000);
});
