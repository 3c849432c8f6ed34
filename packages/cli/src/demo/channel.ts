/**
 * The channel demo: a whole Parley hotline on one machine, in under a minute.
 *
 * 1. Three parties (US, CN, EU) get keys, an accord with deadlines and a
 *    heartbeat of seconds, signed by all, and a node each: SQLite in a
 *    temporary directory, a real HTTP server on 127.0.0.1, federation (push +
 *    pull, every node witnessing the others), heartbeats and the deadline
 *    watcher.
 * 2. A scripted exercise: heartbeats flow; US files an incident report
 *    (TLP:AMBER, sealed) with an update and a final report; US sends a FLASH
 *    message that CN and EU acknowledge in time; CN sends a PRIORITY message
 *    that US leaves unanswered, so it goes overdue and escalates; EU's
 *    operator signs a second, different history and offers it to CN's
 *    witness; CN's node, on its own, refuses it, keeps a fork proof, shows EU
 *    down (fork) and quarantines it — the demo only reads CN's API and checks
 *    the proof with `parley verify-fork`, with the accord alone.
 *    US's institute commits to a pre-release evaluation (`parley eval commit`),
 *    announces the deployment (`parley eval notice`) and reveals the red-line
 *    outcomes to CN alone (`parley eval reveal --to CN`); the demo reads CN's
 *    node (opened, every value matching, committed before deployment) and
 *    EU's (not addressed), and verifies CN's evidence offline.
 * 3. Every log is audited over HTTP by `parley log verify` (a separate
 *    process: checkpoint, every tile, every entry bundle, every signature),
 *    and a compliance summary is printed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AccordParty,
  type SignedAccord,
  type SignerKey,
  MemoryTree,
  draftAccord,
  formatAddCheckpointRequest,
  formatBase64,
  formatSignedAccord,
  formatVerifierKey,
  generateSignerKey,
  formatSignerKey,
  hpkeDeriveKeyPair,
  hpkeGenerateKeyPair,
  newSigner,
  parseChainFile,
  signAccord,
  signCheckpoint,
  verifierKeyOf,
  verifyAccord,
} from '@parley/core/node';
import { SqliteStore, withWriterThread, type LogStore } from '@parley/store';
import {
  type DeliveryStatus,
  type Escalation,
  type IncidentReport,
  type LinkHealth,
  type NodeKeys,
  ParleyNode,
  PeerClient,
  PeerError,
  type Runtime,
  deadlineTracker,
  forksOf,
  hashPassword,
  linkHealth,
  linkSourceOf,
  startRuntime,
} from '@parley/node';
import { type DemoEvaluation, evaluationStep } from './evaluation.js';

export const DEMO_PARTIES = ['CN', 'EU', 'US'] as const;

/** Deadlines of seconds, so the whole exercise takes well under a minute. */
export const DEMO_DEADLINES = {
  receiptSeconds: 5,
  ackSeconds: { FLASH: 8, IMMEDIATE: 10, PRIORITY: 3, ROUTINE: 15 },
  initialReportSeconds: { '0': 60, '1': 60, '2': 30, '3': 30, '4': 20, '5': 20, '6': 10, '7': 10 },
} as const;
export const DEMO_HEARTBEAT_SECONDS = 2;

export interface DemoParty {
  readonly id: string;
  readonly url: string;
  readonly logKey: string;
  readonly login: { readonly officer: string; readonly password: string };
  /** The dashboard's URL, when the demo serves one. */
  readonly dashboard?: string;
}

export interface PartySummary {
  readonly party: string;
  readonly url: string;
  readonly logSize: number;
  readonly entriesSent: number;
  readonly entriesReceived: number;
  /** Receipts and acknowledgements of what this party sent, as the other parties answered. */
  readonly receipts: { readonly onTime: number; readonly late: number; readonly overdue: number };
  readonly acks: { readonly onTime: number; readonly late: number; readonly overdue: number; readonly pending: number };
  readonly escalations: number;
  readonly links: Record<string, string>;
  readonly forks: { readonly party: string; readonly file: string }[];
  readonly audit: { readonly passed: boolean; readonly entries?: number; readonly detail: string };
}

export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ChannelDemoResult {
  readonly dir: string;
  readonly channel: string;
  readonly parties: DemoParty[];
  readonly summary: PartySummary[];
  /** The evaluation US committed, announced and revealed to CN, as CN's node shows it. */
  readonly evaluation: DemoEvaluation;
  readonly checks: DemoCheck[];
  readonly ok: boolean;
  readonly seconds: number;
}

export interface ChannelDemo {
  readonly result: ChannelDemoResult;
  /** Stops every node and closes its store. */
  stop(): Promise<void>;
}

interface Running {
  readonly id: string;
  readonly key: SignerKey;
  readonly keys: NodeKeys;
  readonly port: number;
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly runtime: Runtime;
  readonly escalations: Escalation[];
  readonly login: { officer: string; password: string };
}

const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Waits until `ok()` holds, up to `ms`; returns whether it did. */
async function until(ok: () => Promise<boolean> | boolean, ms: number, step = 100): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > end) return false;
    await sleep(step);
  }
}

const report = (incident: string, kind: IncidentReport['kind'], over: Partial<IncidentReport> = {}): IncidentReport => ({
  incident,
  kind,
  title: 'AI-enabled intrusion into a water utility’s control network',
  summary: 'An agentic model with network tools scanned and exploited an exposed HMI; operators isolated the segment.',
  category: 'CY',
  severity: 4,
  stage: 'incident',
  system: { name: 'Agent-7', developer: 'unknown' },
  actor: { type: 'non-state-actor' },
  harm: { types: ['infrastructure'] },
  mitigations: ['Segment isolated', 'Credentials rotated'],
  detectedAt: new Date().toISOString(),
  lang: 'en',
  ...over,
});

/**
 * Runs the demo. With `once`, everything is stopped before this returns;
 * otherwise the nodes keep running until `stop()`.
 */
export async function runChannelDemo(o: { dir: string; once: boolean; progress?: (line: string) => void; webRoot?: string }): Promise<ChannelDemo> {
  const started = performance.now();
  const say = o.progress ?? (() => {});
  const checks: DemoCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    say(`${ok ? '✓' : '✗'} ${name} — ${detail}`);
  };

  // 1. Parties, accord, nodes.
  const ports = new Map<string, number>();
  for (const id of DEMO_PARTIES) ports.set(id, await freePort());
  // HPKE key pairs from a seed: what a data directory's keys.enc holds (CN gets one for `parley key rotate`).
  const seeds = new Map(DEMO_PARTIES.map((id) => [id, new Uint8Array(randomBytes(32))]));
  const keys = new Map(DEMO_PARTIES.map((id) => [id, { log: generateSignerKey(`${id.toLowerCase()}.demo.parley/log`), hpke: hpkeDeriveKeyPair(seeds.get(id)!) }]));
  const names: Record<string, { en: string; 'zh-CN': string }> = {
    CN: { en: 'China AI Safety and Development Association', 'zh-CN': '中国人工智能发展与安全研究网络' },
    EU: { en: 'EU AI Office', 'zh-CN': '欧盟人工智能办公室' },
    US: { en: 'US Center for AI Standards and Innovation', 'zh-CN': '美国人工智能标准与创新中心' },
  };
  const parties: AccordParty[] = DEMO_PARTIES.map((id) => ({
    id,
    names: names[id]!,
    urls: [`http://127.0.0.1:${ports.get(id)}`],
    logKey: formatVerifierKey(verifierKeyOf(keys.get(id)!.log)),
    hpkeKey: formatBase64(keys.get(id)!.hpke.publicKey),
  }));
  let signed: SignedAccord = {
    accord: draftAccord({
      name: 'demo-ai-hotline',
      title: { en: 'AI incident hotline (demo)', 'zh-CN': '人工智能事件热线（演示）' },
      parties,
      deadlines: DEMO_DEADLINES,
      heartbeatSeconds: DEMO_HEARTBEAT_SECONDS,
      // Amendments need two parties: the governance steps run after EU forked its log.
      amendmentQuorum: 2,
    }),
    signatures: [],
  };
  for (const id of DEMO_PARTIES) signed = signAccord(signed, id, keys.get(id)!.log);
  const accord = verifyAccord(signed);
  mkdirSync(o.dir, { recursive: true });
  const accordFile = join(o.dir, 'accord.json');
  writeFileSync(accordFile, formatSignedAccord(signed));
  say(`channel ${accord.id} — ${DEMO_PARTIES.join(', ')}; deadlines of seconds, heartbeat every ${DEMO_HEARTBEAT_SECONDS} s`);

  const running: Running[] = [];
  /** Opens a party's node on its store and serves it (federation, heartbeats, deadline watcher). */
  const startNode = async (id: string, k: Running['keys'], store: LogStore, port: number, login: Running['login']): Promise<Running> => {
    const node = await ParleyNode.open({ accord: signed, party: id, keys: k, store });
    const escalations: Escalation[] = [];
    const runtime = await startRuntime({
      node,
      store,
      port,
      federation: { pollMs: 400, backoff: { baseMs: 100, maxMs: 1000 } },
      heartbeatMs: DEMO_HEARTBEAT_SECONDS * 1000,
      onEscalation: (e) => escalations.push(e),
      ...(o.webRoot !== undefined ? { webRoot: o.webRoot } : {}),
    });
    return { id, key: k.log, keys: k, node, store, runtime, escalations, login, port };
  };
  for (const id of DEMO_PARTIES) {
    const dir = join(o.dir, id.toLowerCase());
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'parley.sqlite');
    const store = withWriterThread(SqliteStore.open(file), file);
    const login = { officer: `duty-${id.toLowerCase()}`, password: Buffer.from(randomBytes(12)).toString('base64url') };
    await store.putOfficer({ name: login.officer, role: 'admin', passwordHash: await hashPassword(login.password), created: new Date().toISOString(), disabled: false });
    running.push(await startNode(id, keys.get(id)!, store, ports.get(id)!, login));
  }
  const by = (id: string) => running.find((r) => r.id === id)!;
  const stopAll = async () => {
    for (const r of running) await r.runtime.stop();
    for (const r of running) {
      await r.node.close();
      await r.store.close();
    }
  };

  try {
    // 2a. Heartbeats: every node hears every other.
    const heard = await until(async () => {
      for (const r of running) {
        const links = await linkHealth({ node: r.node, store: r.store, now: Date.now() });
        if (!links.every((l) => l.heartbeat === 'up')) return false;
      }
      return true;
    }, 15_000);
    check('heartbeats: every node hears every other party', heard, `every ${DEMO_HEARTBEAT_SECONDS} s, over push and pull`);

    // 2b. An incident report, its update and its final report, sealed to CN and EU.
    const us = by('US');
    const incident = 'US:2026-0042';
    const r1 = await us.node.sendReport(us.login.officer, { marking: 'TLP:AMBER', report: report(incident, 'initial') });
    const r2 = await us.node.sendReport(us.login.officer, {
      marking: 'TLP:AMBER',
      report: report(incident, 'update', { summary: 'Forensics tie the intrusion to a fine-tuned open-weight model; no water quality impact.' }),
      refs: [{ party: 'US', index: r1.index, hash: r1.leafHash }],
    });
    const r3 = await us.node.sendReport(us.login.officer, {
      marking: 'TLP:AMBER',
      report: report(incident, 'final', { summary: 'Root cause: exposed HMI. Safeguards updated; case closed.', severity: 3 }),
      refs: [{ party: 'US', index: r2.index, hash: r2.leafHash }],
    });
    const reports = [r1, r2, r3];
    const delivered = await until(async () => {
      for (const id of ['CN', 'EU']) for (const s of reports) if (!(await by(id).store.received('US', s.index))) return false;
      return true;
    }, 15_000);
    const opened = delivered ? ((await by('CN').node.read('US', r3.index, 'officer'))?.body as IncidentReport | undefined) : undefined;
    // The duty officers acknowledge each report.
    if (delivered) {
      for (const id of ['CN', 'EU']) for (const s of reports) await by(id).node.acknowledge(by(id).login.officer, 'US', s.index);
    }
    check('incident report, update and final report reach CN and EU, sealed (TLP:AMBER)', delivered && opened?.kind === 'final', `${incident}: entries US/${reports.map((s) => s.index).join(', US/')}; CN opens the final report`);

    // 2c. FLASH: CN and EU acknowledge in time.
    const flash = await us.node.sendMessage(us.login.officer, { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'FLASH: confirm you have isolated the affected model endpoints.', lang: 'en' });
    const flashIn = await until(async () => !!(await by('CN').store.received('US', flash.index)) && !!(await by('EU').store.received('US', flash.index)), 10_000);
    if (flashIn) {
      await by('CN').node.acknowledge(by('CN').login.officer, 'US', flash.index, { text: '已确认，端点已隔离。', lang: 'zh-CN' });
      await by('EU').node.acknowledge(by('EU').login.officer, 'US', flash.index, { text: 'Confirmed, endpoints isolated.', lang: 'en' });
    }
    const flashAcked = await until(async () => {
      const t = deadlineTracker(us.node, us.store);
      await t.refresh();
      const mine = (await t.items(Date.now(), { party: 'US', index: flash.index, direction: 'sent' }));
      return mine.length === 2 && mine.every((s) => s.state === 'acknowledged' && s.ack?.onTime === true);
    }, 10_000);
    check('FLASH message acknowledged in time by CN and EU', flashAcked, `US/${flash.index}, ack deadline ${DEMO_DEADLINES.ackSeconds.FLASH} s, judged on US's node from the acks in CN's and EU's logs`);

    // 2d. PRIORITY left unanswered: overdue, escalated on both sides.
    const cn = by('CN');
    const priority = await cn.node.sendMessage(cn.login.officer, { to: ['US'], precedence: 'PRIORITY', marking: 'TLP:GREEN', text: 'Please share the indicators of compromise for US:2026-0042.', lang: 'en' });
    const overdue = await until(async () => {
      const t = deadlineTracker(cn.node, cn.store);
      await t.refresh();
      const s = await t.status('CN', priority.index, 'US', Date.now());
      return s?.state === 'overdue-ack' && cn.escalations.some((e) => e.status.index === priority.index && e.kind === 'ack');
    }, (DEMO_DEADLINES.ackSeconds.PRIORITY + 10) * 1000);
    check('PRIORITY message left unanswered goes overdue and escalates', overdue, `CN/${priority.index} to US, ack deadline ${DEMO_DEADLINES.ackSeconds.PRIORITY} s; CN's watcher escalated it`);

    // 2e. A fourth party joins by amendment, then receives a FLASH and acknowledges it.
    const joined = await joinParty({ dir: o.dir, running, by, startNode, check, freePort });
    // 2f. CN rotates its log key (planned), with `parley key rotate` on a data directory of CN's keys.
    // Both run before the fork below: a rotation waits until every other party activated the version,
    // and a party caught forking activates nothing more (its peers refuse its log).
    await rotateKey({ dir: o.dir, party: 'CN', seed: seeds.get('CN')!, running, by, startNode, check });

    // 2g. US's institute commits to a pre-release evaluation, announces the deployment, and reveals
    // the red-line outcomes to CN alone; CN's node opens and checks it (issue 12, demo/evaluation.ts).
    const evaluation = await evaluationStep({
      dir: o.dir,
      url: (p) => by(p).runtime.url,
      auth: async (p) => auth(by(p)),
      cli: (args) => cliJson(args),
      until,
      check,
      chainFile: async () => {
        const file = join(o.dir, 'evaluation', 'chain.json');
        const r = await runCli(['accord', 'chain', '--out', file, '--url', by('US').runtime.url, '--json']);
        return r.status === 0 ? file : undefined;
      },
    });

    // 2h. EU's operator forks its log: a second history of the size CN cosigned, signed with EU's
    // key, offered to CN's witness by EU's node client (the signed add-checkpoint request every
    // node sends). The demo writes no evidence: CN's node must keep the proof, raise the alarm and
    // quarantine EU by itself; the demo reads what CN's API says and checks the proof with the CLI.
    const eu = by('EU');
    const cnNow = by('CN'); // restarted by the rotation
    const honest = await cnNow.node.witness.latest('EU');
    let forkOk = false;
    let forkDetail = 'CN had not cosigned an EU checkpoint';
    if (honest) {
      const size = honest.treeSize;
      const fake = new MemoryTree();
      for (let i = 0; i < size; i++) fake.appendData(new TextEncoder().encode(`rewritten EU entry ${i}`));
      const forged = signCheckpoint({ origin: parseOrigin(eu), treeSize: size, rootHash: fake.root(), extensions: [] }, newSigner(eu.key));
      const refused = await new PeerClient(eu.node, 'CN', { url: cnNow.runtime.url })
        .addCheckpoint(formatAddCheckpointRequest({ oldSize: size, proof: [], checkpointNote: forged }))
        .then(
          (r) => `HTTP ${r.status}`,
          (e: unknown) => (e instanceof PeerError ? `HTTP ${e.status ?? '?'} ${e.problemCode ?? e.code}` : String(e)),
        );
      forkDetail = `CN's witness answered ${refused}, but CN's node lists no fork proof against EU`;
      const caught = await caughtFork(cnNow, 'EU', join(o.dir, 'forks'), accordFile);
      if (caught) {
        forkOk = caught.link === 'down (fork)' && caught.verified;
        forkDetail = `CN's witness refused EU's second history (${refused}); CN's node keeps a ${caught.kind} fork proof (GET /v1/forks), shows EU ${caught.link}, and \`parley verify-fork\` ${caught.verified ? 'proves it with the accord alone' : 'does NOT verify it'}`;
      }
    }
    check('a forked log is caught with a portable fork proof', forkOk, forkDetail);

    // Let receipts and acks settle across the channel before auditing.
    await sleep(1500);

    // 3. Audit every log over HTTP with the published CLI, following the accord chain (keys by epoch).
    const chainFile = join(o.dir, 'chain.json');
    const saved = await runCli(['accord', 'chain', '--out', chainFile, '--url', by('US').runtime.url, '--json']);
    if (saved.status !== 0) check('the accord chain is saved and verifies (parley accord chain)', false, saved.stdout.trim() || saved.stderr.trim());
    const summary: PartySummary[] = [];
    for (const r of running) {
      const audit = await auditLog(r.runtime.url, r.id === 'JP' ? joined.logKey : parties.find((p) => p.id === r.id)!.logKey, chainFile);
      summary.push(await summarize(r, audit, o.dir));
    }
    check('every log passes a full audit across the key rotation (checkpoint, tiles, entry bundles, signatures by the keys of each version)', summary.every((s) => s.audit.passed), summary.map((s) => `${s.party} ${s.audit.detail}`).join('; '));

    const result: ChannelDemoResult = {
      dir: o.dir,
      channel: accord.id,
      parties: running.map((r) => ({ id: r.id, url: r.runtime.url, logKey: r.id === 'JP' ? joined.logKey : parties.find((p) => p.id === r.id)!.logKey, login: r.login, ...(o.webRoot !== undefined ? { dashboard: `${r.runtime.url}/` } : {}) })),
      summary,
      evaluation,
      checks,
      ok: checks.every((c) => c.ok),
      seconds: (performance.now() - started) / 1000,
    };
    if (o.once) await stopAll();
    return { result, stop: o.once ? async () => {} : stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * What CN's node itself says about a fork of `party`'s log, over its HTTP
 * API as an officer would see it: waits (bounded) for GET /v1/forks to list
 * a proof, downloads it, reads the link state, and runs `parley verify-fork`
 * on the file in a separate process.
 */
async function caughtFork(r: Running, party: string, dir: string, accordFile: string): Promise<{ kind: string; link: string; verified: boolean; file: string } | undefined> {
  const session = await fetch(`${r.runtime.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: r.login.officer, password: r.login.password }) });
  const { token } = (await session.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  let listed: { party: string; kind: string; href: string } | undefined;
  await until(async () => {
    const res = await fetch(`${r.runtime.url}/v1/forks`, { headers: auth });
    listed = ((await res.json()) as { forks: { party: string; kind: string; href: string }[] }).forks.find((f) => f.party === party);
    return listed !== undefined;
  }, 15_000);
  if (listed === undefined) return undefined;
  const proof = Buffer.from(await (await fetch(`${r.runtime.url}${listed.href}`, { headers: auth })).arrayBuffer());
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.id}-caught-${party}.fork`);
  writeFileSync(file, proof);
  const links = ((await (await fetch(`${r.runtime.url}/v1/links`, { headers: auth })).json()) as { links: { party: string; state: string; reason?: string }[] }).links;
  const l = links.find((x) => x.party === party);
  const link = l === undefined ? 'unknown' : `${l.state}${l.reason !== undefined ? ` (${l.reason})` : ''}`;
  const out = await runCli(['verify-fork', file, '--accord', accordFile, '--json']);
  let verified = false;
  try {
    const v = JSON.parse(out.stdout) as { valid?: boolean; party?: string };
    verified = out.status === 0 && v.valid === true && v.party === party;
  } catch {
    verified = false;
  }
  return { kind: listed.kind, link, verified, file };
}

/** Runs the published CLI in a separate process (the nodes in this one keep answering). */
async function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { status, stdout, stderr };
}

function parseOrigin(r: Running): string {
  return r.key.name;
}

/**
 * `parley log verify` as a separate process, asynchronously: the nodes it
 * audits live in this process and must keep answering meanwhile.
 */
async function auditLog(url: string, vkey: string, chainFile: string): Promise<PartySummary['audit']> {
  const child = spawn(process.execPath, [BIN, 'log', 'verify', '--from', url, '--key', vkey, '--chain', chainFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const out = JSON.parse(stdout) as { valid?: boolean; entries?: number; error?: string | { detail?: string }; code?: string; checks?: { name: string; detail: string }[] };
    const versions = out.checks?.find((c) => c.name === 'entry signatures')?.detail.match(/versions ([0-9, ]+)/)?.[1];
    if (status === 0 && out.valid === true) return { passed: true, entries: out.entries ?? 0, detail: `${out.entries} entries verified${versions ? ` (accord versions ${versions})` : ''}` };
    const why = typeof out.error === 'object' && out.error !== null ? (out.error as { detail?: string }).detail : out.error;
    return { passed: false, detail: `${out.code ?? 'failed'}: ${why ?? stderr.trim()}` };
  } catch {
    return { passed: false, detail: `exit ${status}: ${stderr.trim().slice(0, 200)}` };
  }
}

async function summarize(r: Running, audit: PartySummary['audit'], dir: string): Promise<PartySummary> {
  const now = Date.now();
  const t = deadlineTracker(r.node, r.store);
  await t.refresh();
  const sent = await t.items(now, { direction: 'sent' });
  const count = (pick: (s: DeliveryStatus) => boolean) => sent.filter(pick).length;
  const source = linkSourceOf(r.node);
  const links: LinkHealth[] = await linkHealth({ node: r.node, store: r.store, now, ...(source ? { source } : {}) });
  const forks: { party: string; file: string }[] = [];
  for (const p of r.node.counterparts) {
    for (const proof of await forksOf(r.store, p)) {
      // Each proof held is written out as a file `parley verify-fork` checks.
      const file = join(dir, 'forks', `${r.id}-holds-${p}-${forks.length + 1}.fork`);
      mkdirSync(join(dir, 'forks'), { recursive: true });
      writeFileSync(file, proof);
      forks.push({ party: p, file });
    }
  }
  const own = await r.store.entries(0, r.node.treeSize);
  const received = await r.store.inbox({ limit: 100_000 });
  return {
    party: r.id,
    url: r.runtime.url,
    logSize: r.node.treeSize,
    entriesSent: own.filter((e) => e.meta.type !== 'receipt' && e.meta.type !== 'heartbeat').length,
    entriesReceived: received.filter((e) => e.meta.type !== 'receipt' && e.meta.type !== 'heartbeat').length,
    receipts: {
      onTime: count((s) => s.receipt?.onTime === true),
      late: count((s) => s.receipt?.onTime === false),
      overdue: count((s) => s.receipt === undefined && s.overdue.includes('receipt')),
    },
    acks: {
      onTime: count((s) => s.ack?.onTime === true),
      late: count((s) => s.ack?.onTime === false),
      overdue: count((s) => s.ack === undefined && s.overdue.includes('ack')),
      pending: count((s) => s.ackDueAt !== undefined && s.ack === undefined && !s.overdue.includes('ack')),
    },
    escalations: r.escalations.length,
    links: Object.fromEntries(links.map((l) => [l.party, l.state])),
    forks,
    audit,
  };
}

// ─── governance steps (issue 11) ────────────────────────────────────────────

interface GovContext {
  readonly dir: string;
  readonly running: Running[];
  readonly by: (id: string) => Running;
  readonly startNode: (id: string, k: NodeKeys, store: LogStore, port: number, login: Running['login']) => Promise<Running>;
  readonly check: (name: string, ok: boolean, detail: string) => void;
}

interface ChainJson {
  readonly versions: { readonly accord: { readonly version?: number; readonly parties: { readonly id: string; readonly logKey: string }[] } }[];
  readonly activations: { readonly party: string; readonly version: number; readonly size: number }[];
}

/** A node's public chain file (GET /v1/accord/chain). */
async function chainAt(r: Running): Promise<ChainJson> {
  return (await (await fetch(`${r.runtime.url}/v1/accord/chain`)).json()) as ChainJson;
}

/** A bearer token for the party's duty officer. */
async function tokenOf(r: Running): Promise<string> {
  const res = await fetch(`${r.runtime.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: r.login.officer, password: r.login.password }) });
  return ((await res.json()) as { token: string }).token;
}

/** `parley … --json` in a separate process: its JSON answer when it exits 0. */
async function cliJson(args: readonly string[], env: Record<string, string> = {}): Promise<{ ok: boolean; out: any; text: string }> {
  const r = await runCli([...args, '--json'], env);
  let out: any;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = undefined;
  }
  return { ok: r.status === 0 && out !== undefined, out, text: `parley ${args.slice(0, 2).join(' ')} exited ${r.status}: ${(r.stdout.trim() || r.stderr.trim()).slice(0, 300)}` };
}

const auth = async (r: Running) => ['--url', r.runtime.url, '--token', await tokenOf(r)];

/**
 * JP joins: US drafts version N+1 adding JP (`parley accord propose
 * --add-party --out`), JP consents offline (`parley accord consent`), US
 * proposes it, CN approves it (`parley accord approve`): the nodes activate
 * it by themselves. JP's node starts from the chain; US sends it a FLASH
 * that JP acknowledges in time, as US's node judges.
 */
async function joinParty(c: GovContext & { freePort: () => Promise<number> }): Promise<{ logKey: string }> {
  const name = 'a fourth party joins by amendment (consent offline, proposal, approval by quorum, activation), then acknowledges a FLASH in time';
  const port = await c.freePort();
  const key = generateSignerKey('jp.demo.parley/log');
  const hpke = hpkeGenerateKeyPair();
  const logKey = formatVerifierKey(verifierKeyOf(key));
  const fail = (detail: string) => {
    c.check(name, false, detail);
    return { logKey };
  };
  const party: AccordParty = {
    id: 'JP',
    names: { en: 'Japan AI Safety Institute', 'zh-CN': '日本人工智能安全研究所' },
    urls: [`http://127.0.0.1:${port}`],
    logKey,
    hpkeKey: formatBase64(hpke.publicKey),
  };
  const jpDir = join(c.dir, 'jp');
  mkdirSync(jpDir, { recursive: true });
  const partyFile = join(jpDir, 'party.json');
  const keyFile = join(jpDir, 'jp.key');
  const joinFile = join(c.dir, 'join-jp.json');
  writeFileSync(partyFile, `${JSON.stringify(party, null, 2)}\n`);
  writeFileSync(keyFile, `${formatSignerKey(key)}\n`, { mode: 0o600 });
  const us = c.by('US');
  const cn = c.by('CN');
  const usAuth = await auth(us);
  let r = await cliJson(['accord', 'propose', '--add-party', partyFile, '--rationale', 'JP joins the hotline', '--out', joinFile, ...usAuth]);
  if (!r.ok) return fail(r.text);
  r = await cliJson(['accord', 'consent', joinFile, '--key', keyFile]);
  if (!r.ok) return fail(r.text);
  r = await cliJson(['accord', 'propose', joinFile, '--yes', ...usAuth]);
  if (!r.ok) return fail(r.text);
  const digest = r.out.digest as string;
  const version = r.out.version as number;
  const cnAuth = await auth(cn);
  let pending: any;
  await until(async () => {
    const s = await cliJson(['accord', 'status', ...cnAuth]);
    pending = s.ok ? (s.out.items as any[]).find((i) => i.digest === digest) : undefined;
    return pending !== undefined;
  }, 15_000, 300);
  if (!pending) return fail(`CN's node never listed proposal ${digest}`);
  r = await cliJson(['accord', 'approve', digest, '--yes', ...cnAuth]);
  if (!r.ok) return fail(r.text);
  const active = await until(async () => {
    const ch = await chainAt(us);
    return ch.versions.length >= version && ['US', 'CN'].every((p) => ch.activations.some((a) => a.party === p && a.version === version));
  }, 20_000, 300);
  if (!active) return fail(`version ${version} was not activated by US and CN`);

  // JP's node starts from the chain (what `parley accord install CHAIN` puts in its store).
  const file = join(jpDir, 'parley.sqlite');
  const store = withWriterThread(SqliteStore.open(file), file);
  const chain = parseChainFile(JSON.stringify(await chainAt(us)));
  await store.putAccordChain({ ...chain, versions: chain.versions.slice(1) }); // version 1 is the genesis (accord.json)
  const login = { officer: 'duty-jp', password: Buffer.from(randomBytes(12)).toString('base64url') };
  await store.putOfficer({ name: login.officer, role: 'admin', passwordHash: await hashPassword(login.password), created: new Date().toISOString(), disabled: false });
  const jp = await c.startNode('JP', { log: key, hpke }, store, port, login);
  c.running.push(jp);
  const jpActive = await until(async () => (await chainAt(us)).activations.some((a) => a.party === 'JP' && a.version === version && a.size === 0), 20_000, 300);
  const flash = await us.node.sendMessage(us.login.officer, { to: ['JP'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'FLASH: welcome to the hotline — confirm you receive this.', lang: 'en' });
  const got = await until(async () => !!(await jp.store.received('US', flash.index)), 15_000);
  if (got) await jp.node.acknowledge(jp.login.officer, 'US', flash.index, { text: 'Received; JP is on the line.', lang: 'en' });
  const acked = await until(async () => {
    const t = deadlineTracker(us.node, us.store);
    await t.refresh();
    const mine = (await t.items(Date.now(), { party: 'US', index: flash.index, direction: 'sent' }));
    return mine.length === 1 && mine[0]!.state === 'acknowledged' && mine[0]!.ack?.onTime === true;
  }, 15_000);
  c.check(
    name,
    jpActive && got && acked,
    `version ${version} (${digest.slice(0, 16)}…) adds JP: JP consented offline (parley accord consent), US proposed, CN approved (quorum 2); JP's log starts with its activation entry${jpActive ? '' : ' (NOT seen)'}; FLASH US/${flash.index} ${got ? 'received' : 'NOT received'} and ${acked ? 'acknowledged in time, as US\'s node judges' : 'NOT acknowledged in time'}`,
  );
  return { logKey };
}

/**
 * A planned rotation of `party`'s log key with the CLI: a data directory of
 * its keys (keys.enc, config.json), `parley key rotate` (log.key.next and the
 * proposal with the new key's consent), the node restarted with the keys
 * `parley serve` loads, US's approval; the node dual-signs the checkpoint at
 * the rotation size and activates the version with its new key.
 */
async function rotateKey(c: GovContext & { party: string; seed: Uint8Array }): Promise<void> {
  const name = `${c.party} rotates its log key (planned): parley key rotate, approval by quorum, activation with the new key`;
  const r0 = c.by(c.party);
  const dataDir = join(c.dir, c.party.toLowerCase());
  const passFile = join(dataDir, 'passphrase');
  const passphrase = Buffer.from(randomBytes(18)).toString('base64url');
  writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
  writeFileSync(join(dataDir, 'config.json'), `${JSON.stringify({ party: c.party, origin: r0.key.name, listen: { host: '127.0.0.1', port: r0.port }, accord: 'accord.json' }, null, 2)}\n`, { mode: 0o600 });
  const { sealKeyFile } = await import('../keyfile.js');
  writeFileSync(join(dataDir, 'keys.enc'), await sealKeyFile({ log: r0.key, hpkeSeed: c.seed }, passphrase, 2 ** 14), { mode: 0o600 });
  const before = (await chainAt(r0)).versions.at(-1)!.accord.parties.find((p) => p.id === c.party)!.logKey;
  const r = await cliJson(['key', 'rotate', '--data', dataDir, '--passphrase-file', passFile, ...(await auth(r0)), '--yes']);
  if (!r.ok) return c.check(name, false, r.text);
  const digest = r.out.digest as string;
  const version = r.out.version as number;
  // The restart `parley key rotate` asks for: the node takes the keys `parley serve` loads (keys.enc, log.key.next).
  await r0.runtime.stop();
  await r0.node.close();
  const { loadNodeKeys } = await import('../node-keys.js');
  const r1 = await c.startNode(c.party, await loadNodeKeys(dataDir, passFile, c.party, r0.store), r0.store, r0.port, r0.login);
  r1.escalations.push(...r0.escalations); // what the watcher escalated before the restart
  c.running[c.running.indexOf(r0)] = r1;
  const us = c.by('US');
  const usAuth = await auth(us);
  const listed = await until(async () => {
    const s = await cliJson(['accord', 'status', ...usAuth]);
    return s.ok && (s.out.items as any[]).some((i) => i.digest === digest);
  }, 15_000, 300);
  if (!listed) return c.check(name, false, `US's node never listed the rotation ${digest}`);
  const a = await cliJson(['accord', 'approve', digest, '--yes', ...usAuth]);
  if (!a.ok) return c.check(name, false, a.text);
  let at: number | undefined;
  await until(async () => {
    at = (await chainAt(us)).activations.find((x) => x.party === c.party && x.version === version)?.size;
    return at !== undefined;
  }, 60_000, 300);
  const after = (await chainAt(us)).versions.at(-1)!.accord.parties.find((p) => p.id === c.party)!.logKey;
  // Something signed by the new key after the rotation, for the audit to cross it.
  if (at !== undefined) await r1.node.sendMessage(r1.login.officer, { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'Log key rotated; this entry is signed by the new key.', lang: 'en' });
  c.check(
    name,
    at !== undefined && after !== before && after.split('+')[0] === before.split('+')[0],
    at === undefined ? `version ${version} was not activated in ${c.party}'s log (${c.party}'s own chain: ${JSON.stringify((await chainAt(r1)).activations.filter((x) => x.party === c.party))}, log size ${r1.node.treeSize}, halted: ${r1.node.halted ?? 'no'})` : `version ${version} names ${after.split('+').slice(0, 2).join('+')} (was ${before.split('+').slice(0, 2).join('+')}, same origin); ${c.party}'s log activated it at entry ${at}, after a checkpoint of size ${at} signed by both keys`,
  );
}
