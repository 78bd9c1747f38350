/**
 * Installs the lab's real parts from the registries this machine reaches, idempotently:
 * btcd from the Go module proxy, mongo-java-server from Maven Central, Chromium and promtool
 * (the prometheus package) from Debian, schemathesis (the OpenAPI fuzzer) from PyPI into a
 * virtualenv of the lab's own.
 * A part that cannot be installed fails loudly with the command's own error; never a mock.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { labDir, repoRoot } from './paths.js';

export const BTCD_VERSION = '0.24.2';
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const SCHEMATHESIS_VERSION = '4.32.5';

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: opts.env ?? process.env,
  });
}

function goBinDir(): string {
  const gobin = run('go', ['env', 'GOBIN']).trim();
  return gobin || path.join(run('go', ['env', 'GOPATH']).trim(), 'bin');
}

function btcdVersion(bin: string): string | undefined {
  if (!existsSync(bin)) return undefined;
  try {
    // btcd insists on creating ~/.btcd even for --version; give it a throwaway HOME.
    const home = path.join(labDir, 'install-home');
    mkdirSync(home, { recursive: true });
    return run(bin, ['--version'], { env: { ...process.env, HOME: home } }).trim();
  } catch {
    return undefined;
  }
}

/** Returns paths of btcd and btcctl at the pinned version, building them with `go install` if needed. */
export function ensureBtcd(): { btcd: string; btcctl: string } {
  const dir = goBinDir();
  const btcd = path.join(dir, 'btcd');
  const btcctl = path.join(dir, 'btcctl');
  if (!btcdVersion(btcd)?.includes(BTCD_VERSION) || !existsSync(btcctl)) {
    console.log(
      `[lab] installing btcd v${BTCD_VERSION} with go install (first run takes a minute)`,
    );
    run('go', ['install', `github.com/btcsuite/btcd@v${BTCD_VERSION}`]);
    run('go', ['install', `github.com/btcsuite/btcd/cmd/btcctl@v${BTCD_VERSION}`]);
    const version = btcdVersion(btcd);
    if (!version?.includes(BTCD_VERSION)) {
      throw new Error(`btcd at ${btcd} reports "${version ?? 'nothing'}" after go install`);
    }
  }
  return { btcd, btcctl };
}

/** Resolves mongo-java-server and its dependencies from Maven Central; returns the Java classpath. */
export function ensureMongoClasspath(): string {
  const cpFile = path.join(labDir, 'mongo-classpath.txt');
  if (existsSync(cpFile)) {
    const cp = readFileSync(cpFile, 'utf8').trim();
    if (cp && cp.split(path.delimiter).every((jar) => existsSync(jar))) return cp;
  }
  console.log('[lab] resolving mongo-java-server from Maven Central');
  mkdirSync(labDir, { recursive: true });
  run('mvn', [
    '-q',
    '-B',
    '-f',
    path.join(repoRoot, 'test/lab/mongo/pom.xml'),
    'dependency:build-classpath',
    `-Dmdep.outputFile=${cpFile}`,
  ]);
  return readFileSync(cpFile, 'utf8').trim();
}

/** Debian's Chromium for browser tests; tools must never download their own browser. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM_PATH} is missing: run "sudo apt-get install -y chromium"`);
  }
  console.log('[lab] installing Debian chromium with apt-get');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', 'chromium'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return CHROMIUM_PATH;
}

export const PROMTOOL_PATH = '/usr/bin/promtool';

/** Debian's Prometheus for `promtool`, which checks and unit-tests deploy/prometheus/*.yml. */
export function ensurePromtool(): string {
  if (existsSync(PROMTOOL_PATH)) return PROMTOOL_PATH;
  if (process.getuid?.() !== 0) {
    throw new Error(`${PROMTOOL_PATH} is missing: run "sudo apt-get install -y prometheus"`);
  }
  console.log('[lab] installing Debian prometheus (for promtool) with apt-get');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return PROMTOOL_PATH;
}

/** schemathesis, pinned, in `<lab>/schemathesis-venv`; returns its `st` command. */
export function ensureSchemathesis(): string {
  const venv = path.join(labDir, 'schemathesis-venv');
  const st = path.join(venv, 'bin', 'st');
  const installed = (() => {
    try {
      return existsSync(st) && run(st, ['--version']).includes(SCHEMATHESIS_VERSION);
    } catch {
      return false;
    }
  })();
  if (installed) return st;
  console.log(`[lab] installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI`);
  mkdirSync(labDir, { recursive: true });
  run('python3', ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
  return st;
}

export function installLab(): void {
  ensureBtcd();
  ensureMongoClasspath();
  ensureChromium();
  ensurePromtool();
  ensureSchemathesis();
}
