/**
 * Fork evidence held by this node (STYLE.md §7c: a fork is a value, stored
 * and reported) and the rule it triggers: quarantine.
 *
 * Evidence lives in typed store tables (issue 9; store migration 3):
 *
 *     fork proofs              insert-only, one per pair of views (LogStore.addForkProof):
 *                              canonical core fork proofs, oldest first
 *     unverified checkpoints   P's checkpoints that arrived where they could not be compared
 *                              with the one we cosigned (offline import at another size, a
 *                              witness request at a smaller size): compared with P's log by
 *                              the federator at its next contact (gossip.ts), then marked
 *
 * One fork is one proof: {@link canonicalFork} puts the two views of a
 * proof whose kind has no order (same-size, leaf-conflict) in one order,
 * and the store keeps one row per pair of checkpoint bodies, so the same
 * two views seen in either order — on any path — are stored once.
 *
 * Quarantine: while a proof is held against P, P's NEW entries are refused
 * at ingest (ParleyNode.ingest, `ENTRY_INVALID`), this node's witness
 * cosigns none of P's checkpoints (witness.ts, `LOG_FORKED`), and P's log
 * is not pulled; entries already held stay readable. Link health shows P
 * `down` with reason `fork`; the deadline watcher escalates each proof once
 * (error log line, `parley.fork.detected` webhook); the `fork` live event
 * and the `parley_forks_detected`/`parley_log_forked` metrics show it;
 * GET /v1/forks lists the proofs.
 *
 * Everything that records a proof goes through {@link recordFork}, which
 * notifies listeners on the same store ({@link onForkRecorded}): the
 * watcher wakes at once, the federator refreshes its link states, the
 * event hub tells the dashboards.
 */
import { ArgumentError, ParseError, VerificationError, type AccordForkProof, type ForkProof, type VerifiedAccord, type VerifiedAccordFork, type VerifiedFork, cosignerKey, decodeUtf8, departureRace, encodeUtf8, formatForkProof, formatHex, formatNote, parseNote, sha256, verifyAccordFork } from '@parley/core';
import type { LogStore } from '@parley/store';
import { type Governed, verifyForkAt } from '../epochs.js';
import { formatBase64, parseBase64, stampedNote } from '@parley/core';
import { noteSize, timestampVerifierOf, timestampingOf, verifyCheckpointTokens } from '../tsa/verify.js';

/** Most fork proofs kept per party (each ≤ 256 KiB): later ones are not stored. */
export const MAX_FORKS_KEPT = 8;
/** Most unverified checkpoints waiting for comparison per party (more are not kept until some are compared). */
const MAX_UNVERIFIED = 16;

const listeners = new WeakMap<LogStore, Set<(party: string) => void>>();

/**
 * Calls `listener` with the party after a NEW fork proof against it is stored on `store`.
 * @returns a function that removes the listener.
 */
export function onForkRecorded(store: LogStore, listener: (party: string) => void): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/**
 * The proof with its views in one order when its kind has none: same-size
 * and leaf-conflict proofs verify either way round, so side a is the one
 * whose checkpoint note sorts first. A prefix-conflict's order is its
 * meaning (a is the smaller tree) and stays.
 */
export function canonicalFork(proof: ForkProof): ForkProof {
  if (proof.kind === 'prefix-conflict' || proof.a.checkpoint <= proof.b.checkpoint) return proof;
  return { ...proof, a: proof.b, b: proof.a };
}

/**
 * Keeps a fork proof of `party`'s log (durably, before any alarm), once per
 * pair of views (see the module doc) and at most {@link MAX_FORKS_KEPT} per
 * party, and tells the listeners.
 * @returns true when the proof is new.
 * @throws StoreError.
 */
export async function recordFork(store: LogStore, party: string, proof: ForkProof): Promise<boolean> {
  // One proof convicts; a party forking again and again must not fill the disk with them.
  if ((await store.forkProofs(party)).length >= MAX_FORKS_KEPT) return false;
  const p = canonicalFork(await withTimestamps(store, party, portable(store, proof)));
  const text = formatForkProof(p);
  const stored = await store.addForkProof({ party, views: [p.a.checkpoint, p.b.checkpoint], proof: text, recordedAt: new Date().toISOString() });
  if (!stored) return false;
  for (const l of listeners.get(store) ?? []) {
    try {
      l(party);
    } catch {
      // A listener must not undo the evidence being kept.
    }
  }
  return true;
}

/**
 * Issue 12: the tokens a kept fork proof carries for each view. Tokens the
 * proof brought are verified (tsa/verify.ts, against the view's note with
 * only the log's signature, core stampedNote) and dropped when they do not
 * verify (the fork itself stands on the log's signatures, not on them); the
 * tokens this node holds for that exact note are added. No token: the side
 * has no `timestamps` member (the proof's earlier bytes).
 */
async function withTimestamps(store: LogStore, party: string, proof: ForkProof): Promise<ForkProof> {
  const g = timestampVerifierOf(store);
  const brought = proof.a.timestamps !== undefined || proof.b.timestamps !== undefined;
  // No authority in the accord and no token brought: nothing to add or check (and no await on the way).
  if (g === undefined || (timestampingOf(g.accord) === undefined && !brought)) return proof;
  const side = async <T extends ForkProof['a']>(s: T): Promise<T> => {
    let note: string;
    try {
      note = stampedNote(s.checkpoint);
    } catch {
      return s;
    }
    const tokens = new Map<string, string>();
    if (s.timestamps !== undefined) {
      try {
        const checked = await verifyCheckpointTokens(g, party, note, s.timestamps.map((t) => ({ authority: t.authority, token: parseBase64(t.token) })));
        for (const v of checked.verified) tokens.set(v.authority, formatBase64(v.token));
      } catch {
        // The view is not the log's signed note at its size under today's keys: its tokens are not kept.
      }
    }
    try {
      const size = noteSize(note);
      for (const t of await store.checkpointTimestamps(party, { treeSize: size })) if (t.note === note && !tokens.has(t.authority)) tokens.set(t.authority, formatBase64(t.token));
    } catch {
      // Nothing held to add.
    }
    const { timestamps: _drop, ...rest } = s;
    if (tokens.size === 0) return rest as T;
    return { ...rest, timestamps: [...tokens].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([authority, token]) => ({ authority, token })) } as unknown as T;
  };
  return { ...proof, a: await side(proof.a), b: await side(proof.b) };
}

/** Tells the listeners of `store` that a new fork proof against `party` was kept (an accord fork: governance). */
export function notifyForkRecorded(store: LogStore, party: string): void {
  for (const l of listeners.get(store) ?? []) {
    try {
      l(party);
    } catch {
      // A listener must not undo the evidence being kept.
    }
  }
}

// ---------------------------------------------------------------------------
// Accord forks (issue 11): two different valid versions N+1 after one version N.

/** Most accord fork proofs kept (the store's accord fork proofs, issue 14). */
export const MAX_ACCORD_FORKS = 8;

/** The accord fork proofs held (canonical texts, oldest first). */
export function accordForks(store: LogStore): Promise<string[]> {
  return store.accordForkProofs();
}

/**
 * Whom an accord fork accuses: the first party (by id) whose signature under
 * one key is on both versions — it approved two conflicting versions; else
 * `accord` (the two quorums share no signer).
 */
export function accordForkParty(proof: Pick<AccordForkProof, 'a' | 'b'>): string {
  return accordForkSigners(proof)[0] ?? 'accord';
}

/** Parties with a signature on both sides of an accord fork proof, sorted. */
export function accordForkSigners(proof: Pick<AccordForkProof, 'a' | 'b'>): string[] {
  const a = new Set(proof.a.signatures.map((s) => `${s.party}/${s.prior === true ? 'p' : 'n'}`));
  return [...new Set(proof.b.signatures.filter((s) => a.has(`${s.party}/${s.prior === true ? 'p' : 'n'}`)).map((s) => s.party))].sort();
}

/** One held accord fork proof, verified against the chain in force. */
export interface HeldAccordFork {
  readonly id: string;
  readonly n: number;
  readonly text: string;
  readonly fork: VerifiedAccordFork;
  /** Parties that signed both versions. */
  readonly signers: readonly string[];
  /** A departure race (core departureRace): both sides only drop parties; the parties each drops. */
  readonly race?: { readonly a: readonly string[]; readonly b: readonly string[] };
}

/**
 * The alarm text of an accord fork: what happened, and for a departure race
 * (both sides only drop parties) what to do, since an honest race must not
 * read like an attack.
 */
export function accordForkMessage(f: Pick<HeldAccordFork, 'signers' | 'race'> & { readonly fork: { readonly version: number } }): string {
  const v = f.fork.version;
  if (f.race !== undefined) {
    const a = f.race.a.join(', ');
    const b = f.race.b.join(', ');
    return a === b
      ? `ACCORD FORK (a departure race): two different accord versions ${v} both only let ${a} go (a withdrawal crossed a removal); the channel's membership is the same either way. The first seen stays in force here and the other is refused; nodes that adopted the other one disagree with this one until the parties agree on one version out of band (docs/operations.md).`
      : `ACCORD FORK (a departure race): two different accord versions ${v} follow version ${v - 1}, one letting ${a} go, the other ${b} — they left at the same time. The first seen stays in force here and the other is refused; a party still named by the version in force that meant to leave withdraws again from it (parley accord propose --remove-party), and the parties agree on one history out of band (docs/operations.md).`;
  }
  return `ACCORD FORK: two different valid accord versions ${v} follow version ${v - 1}${f.signers.length ? ` (signed both: ${f.signers.join(', ')})` : ''}; the second is refused`;
}

/** Every accord fork proof held, re-verified (core verifyAccordFork); one that no longer verifies is skipped. */
export async function heldAccordForks(store: LogStore, g: Governed): Promise<HeldAccordFork[]> {
  const out: HeldAccordFork[] = [];
  (await accordForks(store)).forEach((text, n) => {
    let fork: VerifiedAccordFork;
    try {
      fork = verifyAccordFork(text, g.chain);
    } catch {
      return;
    }
    const signers = accordForkSigners({ a: { accord: fork.a.accord, signatures: fork.a.signatures }, b: { accord: fork.b.accord, signatures: fork.b.signatures } });
    const prev = g.chain.version(fork.version - 1);
    const race = prev === undefined ? undefined : departureRace(prev.accord, fork.a.accord, fork.b.accord);
    out.push({ id: forkId('accord', text), n, text, fork, signers, ...(race !== undefined ? { race } : {}) });
  });
  return out;
}

/** Per store: the genesis accord of the node on it (set by ParleyNode.open), for {@link portable}. */
const genesisOf = new WeakMap<LogStore, VerifiedAccord>();

/** Registers the genesis accord of the node running on `store` (fork proofs are kept portable against it). */
export function setForkGenesis(store: LogStore, genesis: VerifiedAccord): void {
  genesisOf.set(store, genesis);
}

/**
 * Issue 11: a fork proof is checked offline with the accord alone (`parley
 * verify-fork`), which knows only the genesis witness keys; a cosignature by
 * a witness key of a later version would make the proof fail there ("a key
 * not in the accord"). Cosignatures prove who else saw a view, never the
 * fork itself (the accused log's own signatures do): such cosignatures are
 * dropped from the kept proof. The accused party's signatures all stay.
 */
function portable(store: LogStore, proof: ForkProof): ForkProof {
  const genesis = genesisOf.get(store);
  if (genesis === undefined) return proof;
  const known = new Set(genesis.accord.parties.filter((x) => x.id !== proof.party).map((x) => {
    const k = cosignerKey(genesis.party(x.id)!.logKey);
    return `${k.name}+${k.keyId}`;
  }));
  const origin = genesis.party(proof.party)?.logKey.name;
  const side = <T extends { checkpoint: string }>(v: T): T => {
    try {
      const n = parseNote(v.checkpoint);
      const keep = n.signatures.filter((x) => x.name === origin || known.has(`${x.name}+${x.keyId}`));
      if (keep.length === n.signatures.length || keep.length === 0) return v;
      return { ...v, checkpoint: decodeUtf8(formatNote({ text: n.text, signatures: keep })) };
    } catch {
      return v;
    }
  };
  return { ...proof, a: side(proof.a), b: side(proof.b) } as ForkProof;
}

/** Fork proofs held against `party`'s log (formatted core fork proofs, oldest first). */
export async function forksOf(store: LogStore, party: string): Promise<string[]> {
  return (await store.forkProofs(party)).map((f) => f.proof);
}

/** True while a fork proof is held against `party`'s log: its new entries are refused. */
export async function isQuarantined(store: LogStore, party: string): Promise<boolean> {
  return (await forksOf(store, party)).length > 0;
}

/** The stable id of one fork proof: `fork/<party>/<first 16 hex digits of SHA-256 of its text>`. */
/** The prefix of every fork escalation's id (log forks and accord forks). */
export const FORK_ID_PREFIX = 'fork/';

export function forkId(party: string, text: string): string {
  return `${FORK_ID_PREFIX}${party}/${formatHex(sha256(encodeUtf8(text))).slice(0, 16)}`;
}

/** One held fork proof, verified. */
export interface HeldFork {
  readonly id: string;
  readonly party: string;
  /** Position in the party's list (GET /v1/forks/{party}/{n}). */
  readonly n: number;
  readonly text: string;
  readonly fork: VerifiedFork;
}

/**
 * Every fork proof held, for every party of the accord (our own log
 * included), re-verified; a stored proof that no longer verifies (it never
 * should: only verified proofs are stored) is skipped.
 */
export async function heldForks(store: LogStore, g: Governed): Promise<HeldFork[]> {
  const out: HeldFork[] = [];
  // Every party any version of the chain named: a removed party's log was forked all the same.
  const parties = [...new Set(g.chain.versions.flatMap((v) => v.accord.parties.map((p) => p.id)))].sort();
  for (const party of parties) {
    const texts = await forksOf(store, party);
    texts.forEach((text, n) => {
      let fork: VerifiedFork;
      try {
        fork = verifyForkAt(g, text);
      } catch {
        return;
      }
      out.push({ id: forkId(party, text), party, n, text, fork });
    });
  }
  return out;
}

/**
 * Keeps a checkpoint note of `party` for comparison with its log at the next contact.
 * @returns true when kept (false: already kept, or too many waiting).
 */
export function keepUnverified(store: LogStore, party: string, note: string): Promise<boolean> {
  return store.addUnverifiedCheckpoint(party, note, new Date().toISOString(), MAX_UNVERIFIED);
}

/** Checkpoints of `party` kept and not yet compared, oldest first. */
export function unverifiedOf(store: LogStore, party: string): Promise<string[]> {
  return store.unverifiedCheckpoints(party);
}

/** Marks kept checkpoints compared, with what the comparison showed (the rows stay, as evidence). */
export async function dropUnverified(store: LogStore, party: string, done: readonly string[], outcome = 'compared'): Promise<void> {
  if (done.length === 0) return;
  await store.markCheckpointsCompared(party, done, outcome, new Date().toISOString());
}

/**
 * Runs a core fork-proof builder (or any core check that yields evidence); a
 * failure to build — a parse, verification or argument error: no evidence — is
 * undefined. Anything else (a bug, a storage failure) is thrown.
 */
export function evidence<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParseError || e instanceof VerificationError || e instanceof ArgumentError) return undefined;
    throw e;
  }
}
