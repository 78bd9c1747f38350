/**
 * Endpoint signing secrets at rest. They must be readable to sign, so they are stored; with
 * `webhooks.secretsKey` set they are sealed with AES-256-GCM under a key derived from it
 * (HKDF-SHA256), so a copy of the database alone does not reveal them. Without it they are stored
 * as they are, marked `plain:` (the README says so, and the daemon warns when it writes one).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const SEALED = 'gcm1:';
const PLAIN = 'plain:';

export class SecretUnavailableError extends Error {
  constructor() {
    super(
      'a webhook endpoint secret cannot be opened: webhooks.secretsKey is missing or not the one it was sealed with',
    );
    this.name = 'SecretUnavailableError';
  }
}

export class SecretBox {
  private readonly key: Buffer | undefined;

  /** `masterKey`: the configured `webhooks.secretsKey`, or undefined to store secrets plainly. */
  constructor(masterKey: string | undefined) {
    this.key =
      masterKey === undefined
        ? undefined
        : Buffer.from(hkdfSync('sha256', masterKey, 'satwatch', 'webhook endpoint secrets v1', 32));
  }

  get encrypts(): boolean {
    return this.key !== undefined;
  }

  seal(secret: string): string {
    if (!this.key) return PLAIN + secret;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
  }

  open(stored: string): string {
    if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
    if (!this.key || !stored.startsWith(SEALED)) throw new SecretUnavailableError();
    const raw = Buffer.from(stored.slice(SEALED.length), 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnavailableError();
    }
  }
}
