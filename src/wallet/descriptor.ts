/**
 * Output descriptors (BIP380–386) for single-key wallets: `wpkh(…)`, `sh(wpkh(…))`, `pkh(…)`
 * and `tr(…)` over an account xpub ranged on the receive chain (`/0/*`), with an optional key
 * origin (`[fingerprint/84h/0h/0h]`) and checksum. Parsing is @bitcoinerlab/descriptors'; this
 * module maps the result onto the settings a WalletAccount is built from (account xpub, script
 * type, derivation path, master fingerprint), so everything downstream stays the same, and writes
 * the watch-only descriptors other wallets import.
 *
 * Errors never quote the descriptor: a mistaken paste may hold a private key.
 */
import { createRequire } from 'node:module';
import type * as Descriptors from '@bitcoinerlab/descriptors';
import type { BIP32Interface } from 'bip32';
import { type ScriptType, WalletKeyError, bip32 } from './extended-key.js';
import { BITCOIN_NETWORKS, type NetworkName } from './networks.js';

/** The settings a descriptor stands for (see WalletAccountConfig). */
export interface DescriptorKey {
  xpub: string;
  scriptType: ScriptType;
  /** From the key origin; undefined without one (the script type's default path applies). */
  derivationPath: string | undefined;
  masterFingerprint: string | undefined;
}

/** The script expression around the single key, as `expand` prints it, per script type. */
const EXPRESSIONS: Record<string, ScriptType> = {
  'wpkh(@0)': 'p2wpkh',
  'sh(wpkh(@0))': 'p2sh-p2wpkh',
  'pkh(@0)': 'p2pkh',
  'tr(@0)': 'p2tr',
};

const WRAPPERS: Record<ScriptType, (key: string) => string> = {
  p2wpkh: (key) => `wpkh(${key})`,
  'p2sh-p2wpkh': (key) => `sh(wpkh(${key}))`,
  p2pkh: (key) => `pkh(${key})`,
  p2tr: (key) => `tr(${key})`,
};

/** The receive chain; a BIP389 multipath pair (as Sparrow exports) is expanded to it. */
const RECEIVE_KEY_PATH = '/0/*';
const MULTIPATH = '/<0;1>/*';

const CHECKSUM_LENGTH = 8;

let library: typeof Descriptors | undefined;

/**
 * The descriptor library, loaded on first use: it takes most of a second to load, and a daemon
 * configured with an xpub never needs it.
 */
function descriptors(): typeof Descriptors {
  library ??= createRequire(import.meta.url)('@bitcoinerlab/descriptors') as typeof Descriptors;
  return library;
}

function descriptorChecksum(body: string): string {
  return descriptors().checksum(body);
}

/** The descriptor without its `#checksum`, after verifying the checksum when there is one. */
export function verifyChecksum(text: string, field: string): string {
  const hash = text.indexOf('#');
  if (hash < 0) return text;
  const body = text.slice(0, hash);
  const given = text.slice(hash + 1);
  if (given.length !== CHECKSUM_LENGTH)
    throw new WalletKeyError(field, `has a checksum of ${given.length} characters (8 expected)`);
  let expected: string;
  try {
    expected = descriptorChecksum(body);
  } catch {
    throw new WalletKeyError(field, 'holds characters no descriptor may contain');
  }
  if (given !== expected)
    throw new WalletKeyError(field, 'checksum does not match (a typo, or an edited descriptor)');
  return body;
}

/** `m/84'/0'/0'` → `/84h/0h/0h`; the inverse of originPath(). */
function derivationPathOf(origin: string): string {
  return `m${origin.replace(/[hH']/g, "'")}`;
}

function originOf(derivationPath: string): string {
  return derivationPath.slice(1).replace(/'/g, 'h');
}

/** Hides anything that looks like a key (base58 extended keys and WIFs, hex) in a library message. */
function withoutKeys(message: string): string {
  return message
    .replace(/[1-9A-HJ-NP-Za-km-z]{40,}/g, '<key>')
    .replace(/[0-9a-fA-F]{40,}/g, '<key>')
    .slice(0, 160);
}

/** Checks the key origin against what the xpub itself records (depth, index, parent). */
function checkOrigin(node: BIP32Interface, origin: string, fingerprint: string, field: string) {
  const steps = origin.split('/').filter(Boolean);
  if (steps.length !== node.depth) {
    throw new WalletKeyError(
      field,
      `key origin has ${steps.length} levels but the key is at depth ${node.depth}`,
    );
  }
  const last = steps.at(-1);
  if (last !== undefined) {
    const hardened = /[hH']$/.test(last);
    const index = Number.parseInt(last, 10) + (hardened ? 0x80000000 : 0);
    if (index !== node.index)
      throw new WalletKeyError(field, `key origin ends in ${last} but the key is another child`);
  }
  const own = Buffer.from(node.fingerprint).toString('hex');
  const parent = node.parentFingerprint.toString(16).padStart(8, '0');
  if ((node.depth === 0 && fingerprint !== own) || (node.depth === 1 && fingerprint !== parent))
    throw new WalletKeyError(
      field,
      `key origin fingerprint ${fingerprint} is not the key's parent`,
    );
}

/**
 * The account a receive descriptor describes. `field` names the setting in errors
 * (wallet.descriptor, forwarding.coldDescriptor).
 */
export function parseDescriptor(text: string, network: NetworkName, field: string): DescriptorKey {
  const body = verifyChecksum(text.trim(), field);
  if (/\b(sorted)?multi(_a)?\(/.test(body)) {
    throw new WalletKeyError(
      field,
      'is a multisig descriptor; only single-key wallets are supported (wpkh, sh(wpkh), pkh, tr)',
    );
  }
  // BIP389 multipath: only the receive/change pair, of which the receive chain is taken.
  const multipath = body.includes('<');
  if (multipath && !body.includes(MULTIPATH))
    throw new WalletKeyError(field, `may only use the multipath ${MULTIPATH} (receive;change)`);
  let expansion: ReturnType<typeof Descriptors.expand>;
  try {
    expansion = descriptors().expand({
      descriptor: body,
      network: BITCOIN_NETWORKS[network],
      ...(multipath && { change: 0 }),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/network/i.test(message))
      throw new WalletKeyError(field, `holds a key for another network than ${network}`);
    throw new WalletKeyError(field, `is not a valid descriptor (${withoutKeys(message)})`);
  }
  const scriptType = EXPRESSIONS[expansion.expandedExpression ?? ''];
  const keys = Object.values(expansion.expansionMap ?? {});
  const key = keys[0];
  if (scriptType === undefined || keys.length !== 1 || key === undefined) {
    throw new WalletKeyError(
      field,
      'must be a single-key descriptor: wpkh(…), sh(wpkh(…)), pkh(…) or tr(…) without a script tree',
    );
  }
  if (key.xPrv !== undefined || key.privkey !== undefined) {
    throw new WalletKeyError(
      field,
      'holds a private key; give the watch-only descriptor (and the xprv in wallet.xprv)',
    );
  }
  if (key.xPub === undefined)
    throw new WalletKeyError(field, 'needs an extended public key (xpub/tpub), not a single key');
  if (key.keyPath === undefined || key.keyPath !== RECEIVE_KEY_PATH) {
    throw new WalletKeyError(
      field,
      `must range over the receive chain: …/0/* after the key (got ${key.keyPath ?? 'no path'})`,
    );
  }
  const node = bip32.fromBase58(key.xPub, BITCOIN_NETWORKS[network]);
  const masterFingerprint =
    key.masterFingerprint && Buffer.from(key.masterFingerprint).toString('hex');
  if (masterFingerprint !== undefined)
    checkOrigin(node, key.originPath ?? '', masterFingerprint, field);
  return {
    xpub: key.xPub,
    scriptType,
    derivationPath:
      masterFingerprint === undefined ? undefined : derivationPathOf(key.originPath ?? ''),
    masterFingerprint,
  };
}

/** What a watch-only descriptor is written from: a WalletAccount has every field. */
export interface DescribedAccount {
  scriptType: ScriptType;
  accountXpub: string;
  derivationPath: string;
  masterFingerprint: string | undefined;
}

/**
 * The watch-only descriptor of one chain (0 receive, 1 change) with its checksum. The key origin
 * is included when the master fingerprint is known; without it, signers cannot match the keys.
 */
export function describeChain(account: DescribedAccount, chain: 0 | 1): string {
  const origin =
    account.masterFingerprint === undefined
      ? ''
      : `[${account.masterFingerprint}${originOf(account.derivationPath)}]`;
  const body = WRAPPERS[account.scriptType](`${origin}${account.accountXpub}/${chain}/*`);
  return `${body}#${descriptorChecksum(body)}`;
}
