/**
 * End-to-end harness, part 1: a real channel on 127.0.0.1 — parties with
 * fresh keys, an accord signed by all, one node per party on its own SQLite
 * file, each a full runtime (HTTP API, federation push + pull, heartbeats,
 * deadline watcher) serving the built dashboard (a copy of `packages/web/dist`) at `/`.
 *
 *     const ch = await startChannel({ parties: ['CN', 'US'] });
 *     ch.party('US').url          // http://127.0.0.1:PORT — the dashboard and the API
 *     ch.party('US').officer      // { name: 'duty-us', password } (role officer)
 *     ch.party('US').auditor      // { name: 'audit-us', password } (role auditor)
 *     ch.party('US').admin        // { name: 'admin-us', password } (role admin)
 *     ch.party('US').nextLogKey   // with `next: ['US']`: the pending new log key the node holds (key rotation)
 *     await ch.api('CN').post('/v1/messages', { to: ['US'], precedence: 'FLASH', … });
 *     await ch.stop();
 *
 * Follows the CLI demo's set-up (packages/cli/src/demo/channel.ts): ports are
 * chosen first so the accord can name every node's URL.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import {
  type AccordParty,
  type AccordTimestamping,
  type SignedAccord,
  type SignerKey,
  draftAccord,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  hpkeGenerateKeyPair,
  signAccord,
  verifierKeyOf,
} from '@parley/core/node';
import { SqliteStore, type LogStore } from '@parley/store';
import { ParleyNode, type Runtime, hashPassword, startRuntime } from '@parley/node';

export const WEB_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../dist');

export interface Login {
  readonly name: string;
  readonly password: string;
}

export interface ChannelParty {
  readonly id: string;
  readonly url: string;
  /** The party's log signing key (tests that play a hostile node re-sign with it). */
  readonly logKey: SignerKey;
  readonly officer: Login;
  readonly auditor: Login;
  readonly admin: Login;
  /** The new log key this node holds for a planned rotation (ChannelOptions.next). */
  readonly nextLogKey?: SignerKey;
  /** The new HPKE public key (base64) that goes with it. */
  readonly nextHpkeKey?: string;
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly runtime: Runtime;
}

export interface Api {
  get<T = unknown>(path: string): Promise<T>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
}

export interface Channel {
  readonly dir: string;
  readonly accord: SignedAccord;
  readonly parties: readonly ChannelParty[];
  party(id: string): ChannelParty;
  /** The API of `id`'s node, logged in as its duty officer. */
  api(id: string): Promise<Api>;
  stop(): Promise<void>;
}

export interface ChannelOptions {
  readonly parties?: readonly string[];
  /** Acknowledgement deadlines by precedence, seconds (default: FLASH 300, IMMEDIATE 600, PRIORITY 4, ROUTINE 3600). */
  readonly ackSeconds?: Readonly<Record<'FLASH' | 'IMMEDIATE' | 'PRIORITY' | 'ROUTINE', number>>;
  readonly heartbeatSeconds?: number;
  /** Parties whose node holds a pending new log and HPKE key (log.key.next) for a planned rotation. */
  readonly next?: readonly string[];
  /** The accord's amendment quorum (default: every party). */
  readonly amendmentQuorum?: number;
  /** The accord's RFC 3161 time-stamping authorities (issue 12; e.g. core test/helpers/tsa.ts startTsaServer's `authority`): the nodes stamp their checkpoints. */
  readonly timestamping?: AccordTimestamping;
  /** How often a node stamps and fetches its counterparts' tokens, ms (default 1000 with `timestamping`). */
  readonly tsaIntervalMs?: number;
}

const NAMES: Record<string, { en: string; 'zh-CN': string }> = {
  CN: { en: 'China AI Safety and Development Association', 'zh-CN': '中国人工智能发展与安全研究网络' },
  EU: { en: 'EU AI Office', 'zh-CN': '欧盟人工智能办公室' },
  US: { en: 'US Center for AI Standards and Innovation', 'zh-CN': '美国人工智能标准与创新中心' },
};

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => done(port));
    });
  });
}

/**
 * Copies the built app to `to` and returns it: the node routes the files it
 * finds at start-up, so a rebuild of packages/web/dist while a test runs
 * (another build in the same tree) must not pull the app from under it.
 * Retries while a concurrent build leaves index.html naming assets not yet written.
 */
function snapshotWeb(to: string): string {
  for (let attempt = 0; ; attempt++) {
    rmSync(to, { recursive: true, force: true });
    try {
      cpSync(WEB_ROOT, to, { recursive: true });
      const html = readFileSync(join(to, 'index.html'), 'utf8');
      const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
      if (assets.length > 0 && assets.every((a) => existsSync(join(to, a)))) return to;
    } catch {
      // a build was emptying dist: try again
    }
    if (attempt >= 50) throw new Error(`could not copy a complete build of the dashboard from ${WEB_ROOT}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

/** A tiny JSON client for a node's API, logged in as `login`. */
export async function apiClient(url: string, login: Login): Promise<Api> {
  const res = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(login) });
  if (!res.ok) throw new Error(`login ${login.name} at ${url}: HTTP ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  return { get: (p) => call('GET', p), post: (p, b) => call('POST', p, b) };
}

export async function startChannel(o: ChannelOptions = {}): Promise<Channel> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error(`the dashboard is not built (${WEB_ROOT}/index.html missing): run npm run build`);
  const ids = [...(o.parties ?? ['CN', 'US'])].sort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-web-e2e-'));
  const webRoot = snapshotWeb(join(dir, 'web'));
  const ports = new Map<string, number>();
  for (const id of ids) ports.set(id, await freePort());
  const keys = new Map(ids.map((id) => [id, { log: generateSignerKey(`${id.toLowerCase()}.e2e.parley/log`), hpke: hpkeGenerateKeyPair() }]));
  const accordParties: AccordParty[] = ids.map((id) => ({
    id,
    names: NAMES[id] ?? { en: `${id} institute`, 'zh-CN': `${id} 研究所` },
    urls: [`http://127.0.0.1:${ports.get(id)}`],
    logKey: formatVerifierKey(verifierKeyOf(keys.get(id)!.log)),
    hpkeKey: formatBase64(keys.get(id)!.hpke.publicKey),
  }));
  const ack = o.ackSeconds ?? { FLASH: 300, IMMEDIATE: 600, PRIORITY: 4, ROUTINE: 3600 };
  let accord: SignedAccord = {
    accord: draftAccord({
      name: 'e2e-ai-hotline',
      title: { en: 'AI incident hotline (end-to-end test)', 'zh-CN': '人工智能事件热线（端到端测试）' },
      parties: accordParties,
      deadlines: { receiptSeconds: 30, ackSeconds: ack, initialReportSeconds: { '0': 86400, '1': 86400, '2': 43200, '3': 21600, '4': 7200, '5': 3600, '6': 600, '7': 600 } },
      heartbeatSeconds: o.heartbeatSeconds ?? 5,
      ...(o.amendmentQuorum !== undefined ? { amendmentQuorum: o.amendmentQuorum } : {}),
      ...(o.timestamping !== undefined ? { timestamping: o.timestamping } : {}),
    }),
    signatures: [],
  };
  for (const id of ids) accord = signAccord(accord, id, keys.get(id)!.log);

  const parties: ChannelParty[] = [];
  const stop = async () => {
    for (const p of parties) await p.runtime.stop().catch(() => undefined);
    for (const p of parties) {
      await p.node.close().catch(() => undefined);
      await p.store.close().catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const id of ids) {
      const store = SqliteStore.open(join(dir, `${id.toLowerCase()}.sqlite`));
      const next = o.next?.includes(id) ? { log: generateSignerKey(keys.get(id)!.log.name), hpke: hpkeGenerateKeyPair() } : undefined;
      const node = await ParleyNode.open({ accord, party: id, keys: next !== undefined ? { ...keys.get(id)!, next } : keys.get(id)!, store });
      const pw = () => randomBytes(12).toString('base64url');
      const officer = { name: `duty-${id.toLowerCase()}`, password: pw() };
      const auditor = { name: `audit-${id.toLowerCase()}`, password: pw() };
      const admin = { name: `admin-${id.toLowerCase()}`, password: pw() };
      const created = new Date().toISOString();
      await store.putOfficer({ name: officer.name, role: 'officer', passwordHash: await hashPassword(officer.password), created, disabled: false });
      await store.putOfficer({ name: auditor.name, role: 'auditor', passwordHash: await hashPassword(auditor.password), created, disabled: false });
      await store.putOfficer({ name: admin.name, role: 'admin', passwordHash: await hashPassword(admin.password), created, disabled: false });
      const runtime = await startRuntime({
        node,
        store,
        port: ports.get(id)!,
        federation: { pollMs: 400, backoff: { baseMs: 100, maxMs: 1000 } },
        heartbeatMs: (o.heartbeatSeconds ?? 5) * 1000,
        webRoot,
        ...(o.timestamping !== undefined ? { tsa: { intervalMs: o.tsaIntervalMs ?? 1000 } } : {}),
      });
      parties.push({
        id,
        url: runtime.url,
        logKey: keys.get(id)!.log,
        officer,
        auditor,
        admin,
        ...(next !== undefined ? { nextLogKey: next.log, nextHpkeKey: formatBase64(next.hpke.publicKey) } : {}),
        node,
        store,
        runtime,
      });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const party = (id: string) => {
    const p = parties.find((x) => x.id === id);
    if (p === undefined) throw new Error(`no party ${id}`);
    return p;
  };
  return { dir, accord, parties, party, api: (id) => apiClient(party(id).url, party(id).officer), stop };
}

/**
 * Polls `f` until it yields a value (a rejection counts as not yet).
 * @throws Error naming `what` after `ms`.
 */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000, everyMs = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An initial incident report body for POST /v1/reports (`over` replaces members). */
export const sampleReport = (incident: string, over: Record<string, unknown> = {}) => ({
  incident,
  kind: 'initial',
  title: 'Model weights copied to an unknown host',
  summary: 'Weights of a frontier model were copied to an unknown host during a maintenance window.',
  category: 'WT',
  severity: 5,
  stage: 'incident',
  system: { name: 'Frontier-9', developer: 'Example Lab' },
  actor: { type: 'unknown' },
  harm: { types: [] },
  mitigations: ['Credentials rotated'],
  ...over,
});
