/** `satwatch api-key`: a new API key, and the config entry holding only its hash. */
import { parseArgs } from 'node:util';
import { hashApiKey, newApiKey } from '../api/auth.js';
import { UsageError } from './usage.js';

export function apiKey(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: { id: { type: 'string' }, role: { type: 'string' } },
  });
  if (!values.id || (values.role !== 'merchant' && values.role !== 'admin'))
    throw new UsageError('api-key: --id <id> and --role merchant|admin are required');
  const key = newApiKey();
  console.log(`API key (give it to the client; it is not stored anywhere):\n  ${key}\n`);
  console.log('Add this to auth.apiKeys (or SATWATCH_API_KEYS):');
  console.log(`  ${JSON.stringify({ id: values.id, role: values.role, sha256: hashApiKey(key) })}`);
  return 0;
}
