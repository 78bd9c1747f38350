/**
 * The lab's HTTP process: the esplora facade at `/`, fault profiles at `/faults/<name>/`,
 * and a control API at `/_lab/` (payer wallet, mining, reorgs, fault and fee settings).
 * Started by `lab up`; configured by environment variables.
 */
import http from 'node:http';
import { BtcdRpc, RpcError } from '../rpc.js';
import { PayerWallet, type PayOutput } from '../payer.js';
import { EsploraFacade, type Reply } from './facade.js';
import { FaultProfile, forgeBadPow, tamperRawBlock } from './faults.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const rpc = new BtcdRpc({
  url: env('LAB_BTCD_RPC_URL'),
  user: env('LAB_BTCD_RPC_USER'),
  pass: env('LAB_BTCD_RPC_PASS'),
});
const facade = new EsploraFacade(rpc);
const payer = new PayerWallet(rpc, env('LAB_PAYER_KEY'));
const profiles = new Map<string, FaultProfile>();

class BadRequest extends Error {}

function send(res: http.ServerResponse, reply: Reply): void {
  if (reply.type === 'json') {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  } else if (reply.type === 'binary') {
    res.writeHead(reply.status, { 'content-type': 'application/octet-stream' });
    res.end(reply.body as Buffer);
  } else {
    res.writeHead(reply.status, { 'content-type': 'text/plain' });
    res.end(reply.body as string);
  }
}

async function serveWithFault(
  res: http.ServerResponse,
  profile: FaultProfile,
  method: string,
  path: string,
  body: string,
): Promise<void> {
  const latency = profile.config.latencyMs ?? 0;
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  const fault = profile.roll(path);
  switch (fault) {
    case '429':
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end('Too Many Requests');
      return;
    case '5xx': {
      const status = [500, 502, 503][profile.stats.injected['5xx'] % 3]!;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 503 ? 'Service Unavailable' : 'Internal Server Error');
      return;
    }
    case 'timeout':
      setTimeout(() => res.destroy(), profile.config.timeoutHoldMs ?? 30_000);
      return;
    case 'truncated': {
      const reply = await facade.handle(method, path, body);
      const full = Buffer.from(
        reply.type === 'json' ? JSON.stringify(reply.body) : (reply.body as string | Buffer),
      );
      res.writeHead(reply.status, {
        'content-type': reply.type === 'json' ? 'application/json' : 'text/plain',
        'content-length': String(full.length),
      });
      res.write(full.subarray(0, Math.floor(full.length / 2)));
      res.destroy();
      return;
    }
    case 'malformed':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"txid": "deadbeef", "vout": [ {"value": 12');
      return;
    case 'none':
      send(res, await lyingReply(profile, method, path, body));
  }
}

/** The facade's answer, unless the profile lies about blocks (tamperBlock, badPow). */
async function lyingReply(
  profile: FaultProfile,
  method: string,
  path: string,
  body: string,
): Promise<Reply> {
  const bare = path.split('?')[0]!.replace(/\/+$/, '');
  const blockPath = /^\/block\/([0-9a-f]{64})\/(raw|header)$/.exec(bare);
  if (method === 'GET' && profile.config.badPow === true) {
    if (bare === '/blocks/tip/hash') {
      const tip = await facade.handle('GET', '/blocks/tip/hash', '');
      const real = await facade.handle('GET', `/block/${tip.body as string}/raw`, '');
      if (real.type !== 'binary') return real;
      const forged = forgeBadPow(real.body as Buffer);
      profile.forged.set(forged.hash, forged.raw);
      profile.stats.injected.badPow++;
      return { status: 200, type: 'text', body: forged.hash };
    }
    const forged = blockPath ? profile.forged.get(blockPath[1]!) : undefined;
    if (forged !== undefined) {
      return blockPath![2] === 'raw'
        ? { status: 200, type: 'binary', body: forged }
        : { status: 200, type: 'text', body: forged.subarray(0, 80).toString('hex') };
    }
  }
  const reply = await facade.handle(method, path, body);
  if (
    blockPath?.[2] === 'raw' &&
    reply.status === 200 &&
    reply.type === 'binary' &&
    profile.rollTamper(path)
  ) {
    return { ...reply, body: tamperRawBlock(reply.body as Buffer) };
  }
  return reply;
}

async function control(method: string, path: string, body: string): Promise<Reply> {
  const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const ok = (value: unknown): Reply => ({ status: 200, type: 'json', body: value });
  const faultMatch = /^\/_lab\/faults\/([\w-]+)$/.exec(path);
  if (faultMatch) {
    const name = faultMatch[1]!;
    if (method === 'PUT') {
      profiles.set(name, new FaultProfile(input));
      return ok({ name, path: `/faults/${name}` });
    }
    if (method === 'DELETE') {
      profiles.delete(name);
      return ok({ name });
    }
    const profile = profiles.get(name);
    return profile ? ok(profile.stats) : { status: 404, type: 'text', body: 'no such profile' };
  }
  switch (`${method} ${path}`) {
    case 'GET /_lab/health':
      return ok({ tip: await rpc.call<number>('getblockcount'), payer: payer.address });
    case 'GET /_lab/payer':
      return ok({ address: payer.address, ...(await payer.balance()) });
    case 'POST /_lab/pay': {
      const outputs = input.outputs as PayOutput[] | undefined;
      if (!Array.isArray(outputs) || outputs.length === 0) throw new BadRequest('outputs required');
      return ok(
        await payer.pay(outputs, {
          rbf: input.rbf as boolean | undefined,
          feeRate: input.feeRate as number | undefined,
        }),
      );
    }
    case 'POST /_lab/replace':
      return ok(
        await payer.replace(input.txid as string, {
          outputs: input.outputs as PayOutput[] | undefined,
          feeRate: input.feeRate as number | undefined,
        }),
      );
    case 'POST /_lab/mine':
      return ok({ hashes: await payer.mine(Number(input.blocks ?? 1)) });
    case 'POST /_lab/invalidate':
      await payer.invalidate(() => rpc.call('invalidateblock', input.hash));
      return ok({ tip: await rpc.call<number>('getblockcount') });
    case 'POST /_lab/reconsider':
      await payer.invalidate(() => rpc.call('reconsiderblock', input.hash));
      return ok({ tip: await rpc.call<number>('getblockcount') });
    case 'PUT /_lab/fee-estimates':
      facade.feeEstimatesOverride = (input.estimates as Record<string, number> | null) ?? null;
      return ok({ estimates: facade.feeEstimatesOverride });
  }
  return { status: 404, type: 'text', body: 'Not found' };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const handle = async (): Promise<void> => {
      if (url.startsWith('/_lab/')) {
        send(res, await control(method, url, body));
        return;
      }
      const faultMatch = /^\/faults\/([\w-]+)(\/.*)?$/.exec(url);
      if (!faultMatch) {
        send(res, await facade.handle(method, url, body));
        return;
      }
      const profile = profiles.get(faultMatch[1]!);
      if (profile) await serveWithFault(res, profile, method, faultMatch[2] ?? '/', body);
      else send(res, { status: 404, type: 'text', body: 'no such fault profile' });
    };
    handle().catch((err: unknown) => {
      const status = err instanceof BadRequest || err instanceof RpcError ? 400 : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status === 500) console.error(err);
      if (!res.headersSent) send(res, { status, type: 'text', body: message });
      else res.destroy();
    });
  });
});

const port = Number(env('LAB_ESPLORA_PORT'));
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  console.log(`esplora facade listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
