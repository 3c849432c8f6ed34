/**
 * `parley recover --data DIR`: the rollback check and recovery of a stopped
 * node, on demand (issue 9, "No rollback"; node rollback.ts does the work
 * `parley serve` also does at every start).
 *
 * Asks every peer what it last cosigned of this party's log, verifies each
 * answer (our log key's signature and the peer's cosignature), and when the
 * largest is ahead of the local log fetches the missing entries from the
 * peers' mirrors, verifies each and the recomputed root against that
 * checkpoint, and writes them in one transaction. When no peer can help it
 * says exactly what is missing: the local size, who cosigned which size, what
 * each peer's mirror holds.
 *
 * Exit 0: the log is at least as long as anything a peer cosigned (after
 * recovery, or already); 1: it is not (or no peer answered); 2: unusable arguments.
 */
import type { Command } from 'commander';
import { isParleyError, verifyAccord } from '@parley/core/node';
import type { ParleyNode } from '@parley/node';
import { databaseInUse, openStore } from '@parley/store';
import { lockDir } from '../lock.js';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { DATA_FLAGS, DATA_HELP, dataDir, isPgSpec, readConfig, readInstalledAccord, storeLabel, storeSpec } from '../datadir.js';
import { unlockKeys } from '../secrets.js';
import { nodeKeys } from '../keyfile.js';
import { migrationProgress } from '../progress.js';
import { holdSequencerLock } from '../pg-lock.js';

interface RecoverOpts {
  data?: string;
  passphraseFile?: string;
  peer?: string[];
  json?: boolean;
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description("check this node's log against what its peers cosigned, and recover missing entries from their mirrors (node stopped)")
    .option(DATA_FLAGS, DATA_HELP)
    .option('--passphrase-file <file>', 'file holding the key passphrase (else $PARLEY_PASSPHRASE, else prompted)')
    .option('--peer <party=url>', "a peer node's base URL, overriding the accord's (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Use after restoring a backup, losing the WAL or copying an old data directory
(parley serve does the same at start, and refuses to sign until it is done).

Exit status: 0 the log is complete (recovered, or nothing was missing),
1 entries are missing and no peer could supply them (or no peer answered),
2 unusable arguments.`,
    )
    .action(act(recover));
}

async function recover(o: RecoverOpts): Promise<number> {
  const dir = dataDir(o.data);
  const config = readConfig(dir);
  const file = storeSpec(dir, config);
  // One process per data directory: held until this command exits (released by the OS even on a crash).
  lockDir(dir, 'parley recover');
  // SQLite tells whether another process has the file open; a PostgreSQL store is shared by the party's serve processes: the sequencer lock tells (below).
  if (!isPgSpec(file) && databaseInUse(file)) throw new UsageError(`the store of ${dir} is in use (is parley serve running on it?): a running node recovers by itself — see GET /v1/continuity; or stop it and run parley recover again`);
  const peerUrls: Record<string, string> = {};
  for (const p of o.peer ?? []) {
    const m = /^([A-Z][A-Z0-9-]{1,15})=(https?:\/\/\S+)$/.exec(p);
    if (!m) throw new UsageError(`--peer "${p}" is not PARTY=URL (e.g. CN=http://127.0.0.1:8444)`);
    peerUrls[m[1]!] = m[2]!;
  }
  const accord = verifyAccord(readInstalledAccord(dir, config), { requireAll: false });
  const keys = nodeKeys(await unlockKeys(dir, o.passphraseFile));
  const { ContinuityGuard, ParleyNode, peersOf } = await import('@parley/node'); // slow to load: only once the arguments are good
  const onMigrate = await migrationProgress(o.json === true, storeLabel(file));
  const store = await openStore(file, onMigrate ? { onMigrate } : {});
  const out = makeOut(o.json === true);
  let release = async () => {};
  try {
    release = await holdSequencerLock(store, config.origin, 'recover');
    let node: ParleyNode;
    try {
      node = await ParleyNode.open({ accord, party: config.party, keys, store });
    } catch (e) {
      if (!isParleyError(e)) throw e;
      throw new UsageError(`cannot open the node: ${e.message} (${e.code})`, e.code);
    }
    const guard = new ContinuityGuard({ node, store, peers: peersOf(node, { urls: peerUrls }) });
    const before = node.treeSize;
    let error: string | undefined;
    try {
      await guard.check();
    } catch (e) {
      error = isParleyError(e) ? `${e.message} (${e.code})` : String(e);
    }
    guard.stop();
    const s = guard.status();
    await node.close();
    const ok = s.state === 'confirmed';
    const peers = s.peers.map((p) => `  ${p.party}: ${p.status === 'cosigned' ? `cosigned size ${p.size}` : p.status === 'none' ? 'cosigned nothing of this log' : p.status === 'invalid' ? 'answered a checkpoint that does not verify' : 'did not answer'}${p.error && p.status !== 'cosigned' && p.status !== 'none' ? ` (${p.error})` : ''}${p.mirrored !== undefined ? `; its mirror gave ${p.mirrored} entries` : ''}`);
    const data = { state: s.state, ok, before, after: s.localSize, recovered: s.localSize - before, cosignedSize: s.cosignedSize, cosignedBy: s.cosignedBy, peers: s.peers, detail: s.detail, ...(error ? { reason: error } : {}) };
    const head = ok
      ? s.localSize > before
        ? `recovered entries ${before}…${s.localSize - 1} from the peers' mirrors: log size ${s.localSize}, the largest cosigned size is ${s.cosignedSize}${s.cosignedBy.length ? ` (${s.cosignedBy.join(', ')})` : ''}`
        : `nothing to recover: log size ${s.localSize}, the largest cosigned size is ${s.cosignedSize}${s.cosignedBy.length ? ` (${s.cosignedBy.join(', ')})` : ''}`
      : s.state === 'unconfirmed'
        ? `cannot check this log: no peer answered. Local log size ${s.localSize}; a peer may have cosigned more. Start a peer (or pass --peer PARTY=URL) and run parley recover again`
        : `this log is incomplete: local size ${s.localSize}, but ${s.cosignedBy.join(', ') || 'a peer'} cosigned size ${s.cosignedSize}; entries ${s.localSize}…${s.cosignedSize - 1} are missing. ${s.detail}`;
    if (ok) out.result(data, [head, ...peers]);
    else {
      out.failure({ ...data, code: s.state === 'unconfirmed' ? 'LOG_UNCONFIRMED' : 'LOG_ROLLED_BACK', message: head }, [head, 'what each peer said:', ...peers].join('\n'));
    }
    return ok ? EXIT_OK : EXIT_INVALID;
  } finally {
    await release();
    await store.close();
  }
}
