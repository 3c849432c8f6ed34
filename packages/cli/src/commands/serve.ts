/**
 * `parley serve`: run the party's node — decrypt the keys, open the store
 * and the node on the installed accord, listen, and shut down cleanly.
 *
 * Shutdown order (SIGINT/SIGTERM, see lifetime.ts): stop accepting and finish in-flight
 * requests (server), drain the log writer so every acknowledged entry is
 * committed (node), then close the database (store).
 */
import type { Command } from 'commander';
import { type VerifiedAccord, isParleyError, verifyAccord } from '@parley/core/node';
import { constants as fsConstants, readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { HardeningOptions, ParleyNode, Runtime } from '@parley/node';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { DATA_FLAGS, DATA_HELP, dataDir, paths, readConfig, readInstalledAccord, storeLabel, storeSpec } from '../datadir.js';
import { loadNodeKeys } from '../node-keys.js';
import { webRootOf } from '../web.js';
import { lockDir } from '../lock.js';
import { superviseLifetime, untilStopped } from '../lifetime.js';
import { migrationProgress } from '../progress.js';

interface ServeOpts {
  data?: string;
  peerMirror?: string[];
  preferMirror?: string[];
  mirrorMaxLag?: string;
  host?: string;
  port?: string;
  passphraseFile?: string;
  log?: boolean;
  leanHeap?: boolean;
  json?: boolean;
  peer?: string[];
  poll?: string;
  webhook?: string;
  federation?: boolean;
  heartbeat?: boolean;
  web?: string | boolean;
  trustLocalLog?: boolean;
  metricsTokenFile?: string;
  publicDocs?: boolean;
  hsts?: boolean;
  uploadTimeout?: string;
  trustProxy?: string;
  tsaInterval?: string;
  store?: string;
  advertiseUrl?: string;
  mirrorDir?: string;
}

/**
 * `--advertise-url`: the base URL the party's other processes forward writes
 * to — an http(s) URL without query or fragment, short enough for the
 * PostgreSQL application_name it travels in (63 bytes with "parley:").
 */
export function checkAdvertiseUrl(u: string): void {
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(u)) throw new UsageError(`--advertise-url "${u}" is not an http(s) URL without query or fragment (e.g. https://us-2.parley.example:8444)`);
  if (Buffer.byteLength(u) > 56) throw new UsageError(`--advertise-url "${u}" is longer than 56 bytes (it travels in PostgreSQL's application_name): use a shorter host name or address`);
}

/** The installed accord, verified and complete, or a usage error that says what is missing. */
function installedAccord(dir: string): VerifiedAccord {
  const config = readConfig(dir);
  try {
    const v = verifyAccord(readInstalledAccord(dir, config), { requireAll: false });
    if (!v.complete) {
      const missing = v.accord.parties.map((p) => p.id).filter((id) => !v.signedBy.includes(id));
      throw new UsageError(`the installed accord is not signed by ${missing.join(', ')}: a node runs only on an accord every party signed — collect the signatures (parley accord sign) and install it again`);
    }
    return v;
  } catch (e) {
    if (!isParleyError(e)) throw e;
    throw new UsageError(`the installed accord (${config.accord}) does not verify: ${e.message} (${e.code})`);
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description("run the party's node: the officers' API under /v1, the public log under /log and the dashboard at /")
    .option(DATA_FLAGS, DATA_HELP)
    .option('--host <host>', 'address to listen on (default: config.json listen.host)')
    .option('--port <port>', 'port to listen on, 0 for any free port (default: config.json listen.port)')
    .option('--passphrase-file <file>', 'file holding the key passphrase (else $PARLEY_PASSPHRASE, else prompted)')
    .option('--log', "write fastify's request log (JSON lines) to standard output")
    .option('--peer <party=url>', "a peer node's base URL, overriding the accord's (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--peer-mirror <party=url>', "a peer's static mirror (its --mirror-dir served by a web server): the pull reads the peer's log there when its node fails (repeatable; default: config.json \"peerMirrors\")", (v: string, prev: string[] = []) => [...prev, v])
    .option('--prefer-mirror <party>', "read this peer's log from its mirror first, its node only when the mirror fails (repeatable; default: config.json \"preferMirror\")", (v: string, prev: string[] = []) => [...prev, v])
    .option('--mirror-max-lag <entries>', "a preferred mirror whose checkpoint lags what the peer's node showed us (its pushes, its checkpoints) by more than this many entries is not read: its node is (default 256)")
    .option('--poll <ms>', 'how often to pull every peer (default 5000)')
    .option('--webhook <url>', 'POST alerts here, signed with the log key: overdue deadlines, forks, FLASH/IMMEDIATE arrivals, link down/up (also $PARLEY_WEBHOOK)')
    .option('--no-federation', 'do not push to or pull from peers (the node still answers them)')
    .option('--no-heartbeat', "do not append heartbeats (default: one every accord heartbeat interval)")
    .option('--web <dir>', 'serve the dashboard from this built web app directory (default: the @parley/web package\'s dist, when installed and built)')
    .option('--no-web', 'do not serve the dashboard')
    .option('--trust-local-log', "sign without a peer's confirmation that this log is not behind what they cosigned (only when every peer is lost and this data directory is known to be the latest)")
    .option('--metrics-token-file <file>', 'serve GET /metrics to requests with Authorization: Bearer <the token on the file\'s first line> (default: /metrics is off)')
    .option('--public-docs', 'serve the API description (GET /docs, /openapi.json) to anyone (default: off)')
    .option('--hsts', 'send Strict-Transport-Security (the node is reached over HTTPS through a reverse proxy)')
    .option('--trust-proxy <addresses>', 'believe X-Forwarded-For from these reverse proxies (address, CIDR or comma list, e.g. 127.0.0.1), so login throttling sees clients\' addresses')
    .option('--upload-timeout <seconds>', 'close an upload (push, witness request, bundle import) whose body is not in after this long (default 30)')
    .option('--tsa-interval <seconds>', 'when the accord lists RFC 3161 time-stamping authorities: least time between two time stamps of this log\'s checkpoints, and between two fetches of the peers\' tokens (default 60; a checkpoint after an evaluation commitment or deployment notice is stamped at once)')
    .option('--store <url>', "the PostgreSQL database of this party's store (default: config.json \"store\", else DIR/parley.sqlite); several serve processes may share one database: one of them signs (the sequencer), the others serve reads and hand writes to it")
    .option('--advertise-url <url>', 'with a PostgreSQL store: the base URL the party\'s other serve processes forward writes to when this one is the sequencer (default: the URL it listens on; http(s), at most 56 bytes)')
    .option('--mirror-dir <dir>', 'publish this log to DIR as a static C2SP tlog-tiles mirror (checkpoint, tile/…) for any web server to serve (default: config.json "mirrorDir", else none)')
    .option('--lean-heap', "keep V8's heap near what is live (--optimize-for-size): peak RSS of a 10,000,000-entry node under 190 MiB, at about half the durable-append rate (docs/operations.md \"Memory\")")
    .option('--json', 'print {"url","party","origin","channel"} as JSON once listening')
    .addHelpText(
      'after',
      `
Refuses to start (exit 2) without an installed accord signed by every party.
Signs nothing until a peer confirmed what it cosigned of this log: a data
directory older than the published log (restored backup, lost WAL) is
recovered from the peers' mirrors first, and sends are refused meanwhile
(LOG_ROLLED_BACK; LOG_UNCONFIRMED while no peer answers).
Stops cleanly on SIGINT (Ctrl-C), SIGTERM, SIGHUP from its terminal, and —
run through npx or npm run — when npm ends. Without a terminal (nohup, a
service manager) SIGHUP is ignored.

Several processes for one party (PostgreSQL store): run one serve per data
directory copy (same keys.enc and config), all on one database. Exactly one
is the sequencer (a PostgreSQL advisory lock); when it dies another takes
over within a few seconds. GET /v1/sequencer says which one it is.

With --mirror-dir, the log is also published as static files as it grows
(docs/operations.md, "Static mirror"); verifiers read it with
parley log verify --from https://mirror.example/us/ --key …
With --peer-mirror CN=URL, this node reads CN's log from CN's mirror when
CN's node fails (down, timing out, or answering what does not verify), with
the same checks; GET /v1/links says which source the last pull read.

Example:
  $ PARLEY_PASSPHRASE=… parley serve --data us --port 8443
  $ PGPASSWORD=… PARLEY_PASSPHRASE=… parley serve --data us --store postgres://parley@db.example/parley_us
  $ PGPASSWORD=… PARLEY_PASSPHRASE=… parley serve --data us-2 --port 8444 --store postgres://parley@db.example/parley_us
  $ parley serve --data us --mirror-dir /srv/parley-mirror/us
  $ parley serve --data us --peer-mirror CN=https://mirror.cn.example/`,
    )
    .action(act(serve));
}

/** --metrics-token-file, --public-docs, --hsts, --upload-timeout: closed unless asked (node http/hardening.ts). */
function hardeningOf(o: ServeOpts): HardeningOptions {
  let metrics: HardeningOptions['metrics'] = 'off';
  if (o.metricsTokenFile !== undefined) {
    let token: string;
    try {
      token = readFileSync(o.metricsTokenFile, 'utf8').split('\n')[0]!.trim();
    } catch (e) {
      throw new UsageError(`cannot read --metrics-token-file "${o.metricsTokenFile}": ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    if (token.length < 16) throw new UsageError('--metrics-token-file: the token must be at least 16 characters');
    metrics = { token };
  }
  const timeout = o.uploadTimeout === undefined ? undefined : parseIndexArg(o.uploadTimeout, '--upload-timeout');
  if (timeout === 0) throw new UsageError('--upload-timeout must be at least 1 second');
  return {
    metrics,
    publicDocs: o.publicDocs === true,
    hsts: o.hsts === true,
    ...(o.trustProxy !== undefined ? { trustProxy: o.trustProxy } : {}),
    ...(timeout !== undefined ? { uploads: { bodyTimeoutMs: timeout * 1000 } } : {}),
  };
}

async function serve(o: ServeOpts): Promise<number> {
  superviseLifetime();
  const tsaIntervalMs = o.tsaInterval === undefined ? undefined : parseIndexArg(o.tsaInterval, '--tsa-interval') * 1000;
  const dir = dataDir(o.data);
  const config = readConfig(dir);
  // One process per data directory, for this process's whole life: a second
  // serve (or init, officer add, accord install) on it exits at once.
  const lock = lockDir(dir, 'parley serve');
  const accord = installedAccord(dir);
  const host = o.host ?? config.listen.host;
  const port = o.port === undefined ? config.listen.port : parseIndexArg(o.port, '--port');
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  const peerUrls: Record<string, string> = {};
  for (const p of o.peer ?? []) {
    const m = /^([A-Z][A-Z0-9-]{1,15})=(https?:\/\/\S+)$/.exec(p);
    if (!m) throw new UsageError(`--peer "${p}" is not PARTY=URL (e.g. CN=http://127.0.0.1:8444)`);
    peerUrls[m[1]!] = m[2]!;
  }
  // issue 14: peers' static mirrors, from the flags over config.json.
  const peerMirrors: Record<string, string> = { ...(config.peerMirrors ?? {}) };
  for (const p of o.peerMirror ?? []) {
    const m = /^([A-Z][A-Z0-9-]{1,15})=(https?:\/\/\S+)$/.exec(p);
    if (!m) throw new UsageError(`--peer-mirror "${p}" is not PARTY=URL (e.g. CN=https://mirror.cn.example/)`);
    peerMirrors[m[1]!] = m[2]!;
  }
  const preferMirror = [...(o.preferMirror ?? config.preferMirror ?? [])];
  for (const p of [...Object.keys(peerMirrors), ...preferMirror]) {
    if (p === config.party || !accord.accord.parties.some((x) => x.id === p)) throw new UsageError(`--peer-mirror/--prefer-mirror: ${p} is not another party of the accord`);
  }
  for (const p of preferMirror) if (peerMirrors[p] === undefined) throw new UsageError(`--prefer-mirror ${p}: no mirror is configured for ${p} (give --peer-mirror ${p}=URL)`);
  const webRoot = webRootOf(o.web);
  const hardening = hardeningOf(o);
  // The flag is relative to the working directory, the config key to the data directory.
  if (o.mirrorDir !== undefined && o.mirrorDir.trim() === '') throw new UsageError('--mirror-dir must name a directory');
  if (config.mirrorDir !== undefined && config.mirrorDir.trim() === '') throw new UsageError(`${paths(dir).config}: "mirrorDir" must name a directory`);
  const mirrorPath = o.mirrorDir !== undefined ? resolve(o.mirrorDir) : config.mirrorDir !== undefined ? resolve(dir, config.mirrorDir) : undefined;
  // Loaded here, not with the command: `parley serve --help` and a refused start stay fast.
  if (o.advertiseUrl !== undefined) checkAdvertiseUrl(o.advertiseUrl);
  if (o.store !== undefined) {
    const { checkStoreUrl } = await import('./init.js');
    checkStoreUrl(o.store);
  }
  const [{ ParleyNode, VerifyPool, SignPool, SequencerElection, startRuntime, makeDir, leanHeap }, { openStore, PgStore }] = await Promise.all([import('@parley/node'), import('@parley/store')]);
  // Before any worker thread starts (issue 14: RSS of a node serving a big log; node heap.ts).
  if (o.leanHeap === true) leanHeap();
  // The mirror directory first: one that cannot be made or written (a typo, /proc/x, a read-only volume) is said at once,
  // before the store is opened or a passphrase asked for.
  if (mirrorPath !== undefined) {
    try {
      await makeDir(mirrorPath);
      await access(mirrorPath, fsConstants.W_OK);
    } catch (e) {
      throw new UsageError(`--mirror-dir ${mirrorPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}: check that the directory can be created and written`, 'FILE_UNWRITABLE');
    }
  }

  // The store: the SQLite file (commits on a writer thread, so the event
  // loop stays free during fsync) or the PostgreSQL database of --store /
  // config.json (issue 14). Entry signatures of ingested entries are checked on a worker pool;
  // our own entries are signed on another (a batch on every core, beside the previous batch's commit).
  const spec = o.store ?? storeSpec(dir, config);
  const onMigrate = await migrationProgress(o.json === true, storeLabel(spec));
  const store = await openStore(spec, { writerThread: true, ...(onMigrate ? { onMigrate } : {}) });
  // issue 14: several serve processes may share a PostgreSQL store; they elect the one that signs (sequencer.ts).
  const pool = store instanceof PgStore ? store.pool : undefined;
  if (o.advertiseUrl !== undefined && pool === undefined) {
    await store.close();
    throw new UsageError('--advertise-url is for several processes on a PostgreSQL store (--store postgres://…)');
  }
  // A party's database holds at least its accord binding (accord install) or an officer: an empty one is a wrong
  // --store URL, and serving it would start the party's log anew from 0 (issue 14).
  if (pool !== undefined) {
    const { isDumpable, isEmpty } = await import('@parley/store');
    if (isDumpable(store) && (await isEmpty(store, Math.floor(Date.now() / 1000)))) {
      await store.close();
      throw new UsageError(`the database ${storeLabel(spec)} holds no party's data: check the URL, or put this data directory's store there with parley migrate --from ${dir} --to URL (or create a party in it with parley init --store)`);
    }
  }
  // keys.enc, a pending next key (log.key.next) and retired HPKE keys; the next key becomes the key once its version is in force.
  const keys = await loadNodeKeys(dir, o.passphraseFile, config.party, store).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  // A party that joined with `parley init --chain`: catch its chain up from the channel's nodes before opening (join.ts).
  try {
    const { catchUpJoin } = await import('../join.js');
    const { formatVerifierKey, verifierKeyOf } = await import('@parley/core/node');
    await catchUpJoin({
      store,
      genesis: readInstalledAccord(dir, config),
      party: config.party,
      logKey: formatVerifierKey(verifierKeyOf(keys.log)),
      peerUrls: Object.values(peerUrls),
      log: (msg) => process.stderr.write(`${JSON.stringify({ level: 'info', msg, event: 'parley.accord.joined' })}\n`),
    });
  } catch (e) {
    await store.close();
    if (!isParleyError(e)) throw e;
    throw new UsageError(`the accord chain held in ${dir} does not verify: ${e.message} (${e.code})`, e.code);
  }
  const verifyPool = new VerifyPool(readInstalledAccord(dir, config));
  const signPool = new SignPool();
  let node: ParleyNode;
  try {
    node = await ParleyNode.open({ accord, party: config.party, keys, store, verifyPool, signPool });
  } catch (e) {
    await store.close();
    await verifyPool.close();
    await signPool.close();
    if (!isParleyError(e)) throw e;
    throw new UsageError(`cannot open the node: ${e.message} (${e.code})`, e.code);
  }
  const webhook = o.webhook ?? process.env['PARLEY_WEBHOOK'];
  const events = {
    info: (obj: object, msg: string) => process.stderr.write(`${JSON.stringify({ level: 'info', time: Date.now(), msg, ...obj })}\n`),
    warn: (obj: object, msg: string) => process.stderr.write(`${JSON.stringify({ level: 'warn', time: Date.now(), msg, ...obj })}\n`),
    error: (obj: object, msg: string) => process.stderr.write(`${JSON.stringify({ level: 'error', time: Date.now(), msg, ...obj })}\n`),
  };
  // issue 14: on PostgreSQL, several serve processes may share the party's database; one signs (sequencer.ts).
  const sequencer = pool === undefined ? undefined : new SequencerElection({ pool, origin: node.origin, logger: events });
  let runtime: Runtime;
  try {
    runtime = await startRuntime({
      node,
      store,
      host,
      port,
      logger: o.log === true,
      events,
      peerUrls,
      peerMirrors,
      preferMirror,
      federation: {
        enabled: o.federation !== false,
        ...(o.poll !== undefined ? { pollMs: parseIndexArg(o.poll, '--poll') } : {}),
        ...(o.mirrorMaxLag !== undefined ? { mirrorMaxLag: parseIndexArg(o.mirrorMaxLag, '--mirror-max-lag') } : {}),
      },
      ...(o.heartbeat === false ? { heartbeatMs: 0 } : {}),
      ...(webhook ? { webhook: { url: webhook }, webhookKey: keys.log } : {}),
      ...(webRoot !== undefined ? { webRoot } : {}),
      ...(o.trustLocalLog === true ? { continuity: { trustLocalLog: true } } : {}),
      ...(tsaIntervalMs !== undefined ? { tsa: { intervalMs: tsaIntervalMs } } : {}),
      ...(mirrorPath !== undefined ? { mirror: { dir: mirrorPath } } : {}),
      hardening,
      ...(sequencer !== undefined ? { sequencer } : {}),
      ...(o.advertiseUrl !== undefined ? { advertiseUrl: o.advertiseUrl } : {}),
    });
  } catch (e) {
    await node.close();
    await store.close();
    await verifyPool.close();
    await signPool.close();
    if (isParleyError(e, 'MIRROR_CONFLICT')) throw new UsageError(`--mirror-dir: ${e.message}: point it at an empty directory or this log's own mirror`, e.code);
    if (isParleyError(e, 'MIRROR_LOCKED')) throw new UsageError(`--mirror-dir: ${e.message}`, e.code);
    if (e instanceof Error && 'code' in e && typeof (e as NodeJS.ErrnoException).syscall === 'string' && (e as NodeJS.ErrnoException).syscall !== 'listen') {
      throw new UsageError(`--mirror-dir ${mirrorPath}: ${(e as NodeJS.ErrnoException).code}: check that the directory can be created and written`, 'FILE_UNWRITABLE');
    }
    throw new UsageError(`cannot listen on ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const url = runtime.url;
  const continuity = runtime.continuity?.status();
  if (continuity !== undefined && continuity.state !== 'confirmed') process.stderr.write(`parley: log continuity ${continuity.state}: ${continuity.detail}\n`);
  // Stop signals are handled before the URL is out: whoever reads it may signal at once.
  const stopped = untilStopped();
  makeOut(o.json === true).result({ url, party: config.party, origin: node.origin, channel: accord.id, treeSize: node.treeSize, ...(continuity !== undefined ? { continuity: continuity.state } : {}), ...(webRoot !== undefined ? { dashboard: `${url}/` } : {}), ...(sequencer !== undefined ? { role: sequencer.role } : {}), ...(mirrorPath !== undefined ? { mirrorDir: mirrorPath } : {}) }, [
    `Parley node ${config.party} (${node.origin}) listening on ${url}`,
    `  channel ${accord.id}, log size ${node.treeSize}; Ctrl-C to stop`,
    webRoot !== undefined ? `  dashboard ${url}/ (from ${webRoot})` : '  no dashboard (build it with npm run build -w @parley/web, or pass --web DIR)',
    ...(mirrorPath !== undefined ? [`  static mirror ${mirrorPath} (C2SP tlog-tiles)`] : []),
  ]);

  const signal = await stopped;
  if (!o.json) process.stderr.write(`${signal}: stopping ${config.party}…\n`);
  await runtime.stop();
  await node.close();
  await store.close();
  await verifyPool.close();
  await signPool.close();
  lock.release();
  if (!o.json) process.stderr.write('stopped cleanly\n');
  return EXIT_OK;
}
