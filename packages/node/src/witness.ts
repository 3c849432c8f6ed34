/**
 * WitnessService: this node as a C2SP tlog-witness for every OTHER party's
 * log (PRODUCT.md "Witnessing"; issue 4, "Witnessing and fork proofs").
 *
 * Known logs come from the accord chain (epochs.ts): each other party's
 * origin is the name of its `logKey` (a rotated key keeps it), and the keys
 * trusted for a checkpoint are those the epochs name for its size
 * (`checkpointKeys(party, size)`: at a rotation size both the old and the
 * new key, beyond it only the new one). A checkpoint signed by a key retired
 * before its size is refused (403, `KEY_RETIRED`) and kept as evidence
 * (C2SP: the witness follows the accord's current key for an origin). The
 * node's own log is not witnessed here (404, like any unknown origin): a
 * party cosigning its own checkpoints proves nothing to the others.
 *
 * add-checkpoint (tlog-witness §add-checkpoint), in commit order:
 *
 *     parse the request (core parseAddCheckpointRequest)
 *     → read the latest cosigned state of its origin (store.witnessState)
 *     → decide (core decideAddCheckpoint: 400/403/404/409/422, or 200 after
 *       RFC 6962 §2.1.4 consistency from the stored root, core verifyConsistency)
 *     → cosign (tlog-cosignature cosignature/v1, timestamp = now in POSIX seconds)
 *     → store.advanceWitness(origin, old size, new state)   compare-and-set
 *       ---- DURABLE once it resolves true: only now may the cosignature leave.
 *       false = a concurrent add-checkpoint for the origin won → 409 with the
 *       size it stored, and our cosignature is dropped unsent;
 *     → answer the cosignature line.
 *
 * A request for exactly the checkpoint held (same size, same text: a client
 * that lost our answer, or a reply's offer we cosigned before its sender
 * asked) is answered with the cosignature held, its timestamp unchanged:
 * nothing is signed or written, and the log's node and this one hold one
 * time for that checkpoint (deadline verdicts use it on both, issue 14).
 *
 * Crash points: before the compare-and-set commits, nothing was stored and
 * nothing was sent — the client retries with the same old size. After it
 * commits but before the answer is written, the client gets no cosignature
 * and its retry gets 409 with the new size; it can fetch the cosigned
 * checkpoint later by gossip ({@link WitnessService.latest}). At no point is
 * a cosignature released for a state that is not stored, so the witness can
 * never be made to cosign two inconsistent checkpoints of one log.
 *
 * Key: the cosigning key is this party's witness key (issue 11): its own
 * `witness.key` when the data directory has one (the accord's `witnessKey`
 * for this party certifies it), else the log key in its cosignature/v1 form
 * (core `cosignerKey`: same Ed25519 key, type 0x04, its own key ID), so the
 * accord that certifies the log key certifies the witness key too. The two
 * uses of one key are domain-separated: a cosignature
 * signs "cosignature/v1\ntime …\n" || checkpoint, which no checkpoint text
 * can equal (its second line would have to be a decimal tree size), and
 * every other Parley signature carries a "parley/…" context.
 *
 * Fork evidence (issue 9): a validly signed checkpoint that cannot extend
 * the one held is kept as evidence BEFORE the refusal is answered
 * (federation/forks.ts `recordFork`, durable, raising the alarm):
 *
 *     same size, other root            same-size fork proof (core detectFork)
 *     larger, its proof fails (422)    prefix-conflict proof when the request's proof
 *                                      authenticates under the new root (old size not a
 *                                      power of two); else only the log's word: the
 *                                      checkpoint is kept for gossip to compare
 *     smaller than held (409)          kept for gossip to compare with the party's log
 *                                      (gossip.ts: its consistency proof, or a prefix conflict)
 *
 * and a log this node holds a fork proof against is cosigned no more: every
 * validly signed request for it is refused 422 `LOG_FORKED` (reason
 * `log-forked`), so a witness never cosigns both sides of a fork, nor
 * anything after one.
 *
 * State is kept per PARTY (store schema 7): a key rotation does not reset it.
 *
 * The stored note is the checkpoint text with the log signatures that
 * verified and this node's cosignature; other signature lines of the request
 * (unknown keys, other witnesses) are not kept, being unverified.
 */
import {
  type AddCheckpointReason,
  type AddCheckpointRequest,
  type Checkpoint,
  type NoteSignature,
  type ParleyError,
  type SignerKey,
  TLOG_SIZE_CONTENT_TYPE,
  VerificationError,
  type VerifierSet,
  COSIGNATURE_V1_LENGTH,
  bytesEqual,
  cosign,
  decideAddCheckpoint,
  decodeUtf8,
  detectFork,
  encodeUtf8,
  formatAddCheckpointResponse,
  formatNote,
  formatTreeSizeBody,
  isParleyError,
  parseAddCheckpointRequest,
  parseEntry,
  parseCosignature,
  parseNote,
  prefixConflictProof,
  verifyConsistency,
} from '@parley/core';
import type { LogStore, WitnessState } from '@parley/store';
import { noteCosigned } from './deadlines/cosigned.js';
import { evidence, isQuarantined, keepUnverified, recordFork } from './federation/forks.js';
import { type Governed, accordView, checkpointVerifiers, isDepartureActivation, originOf, retiredSigners } from './epochs.js';

/** Content-Type of a 200 add-checkpoint answer (and of plain-text refusals). */
export const WITNESS_TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

export interface WitnessOptions {
  /** The accord chain and epochs in force (read at every request: an adopted chain applies at once). */
  readonly governed: () => Governed;
  /** This party's id: its own log is not witnessed. */
  readonly party: string;
  /**
   * This party's witness signer key (cosignature/v1, 0x04): `witness.key`, or
   * the log key's 0x04 form. A function is read at every cosignature, so a
   * key derived from the log key follows a log-key rotation at once.
   */
  readonly witnessKey: SignerKey | (() => SignerKey);
  readonly store: LogStore;
  /** Clock for cosignature timestamps (default: the system clock). */
  readonly now?: () => Date;
}

/** A log this node witnesses. */
export interface WitnessedLog {
  readonly party: string;
  readonly origin: string;
}

/** The cosignature was stored and may be sent. */
export interface AddCheckpointCosigned {
  readonly status: 200;
  readonly contentType: typeof WITNESS_TEXT_CONTENT_TYPE;
  /** One cosignature line (tlog-witness: "one or more note signature lines"). */
  readonly body: Uint8Array;
  readonly checkpoint: Checkpoint;
  readonly cosignature: NoteSignature;
  /** The cosignature's timestamp, POSIX seconds. */
  readonly timestamp: number;
}

/** The old size is not the latest cosigned size (tlog-witness 409). */
export interface AddCheckpointConflict {
  readonly status: 409;
  readonly contentType: typeof TLOG_SIZE_CONTENT_TYPE;
  /** `<latest cosigned size>\n`, exactly as the spec requires. */
  readonly body: Uint8Array;
  readonly latestSize: number;
}

/** Why a request was refused: tlog-witness's reasons, and a log this node holds a fork proof against. */
export type WitnessRefusalReason = AddCheckpointReason | 'log-forked' | 'party-departed';

/** Any other refusal. Nothing was signed; only fork evidence may have been stored. */
export interface AddCheckpointRefused {
  readonly status: 400 | 403 | 404 | 422;
  readonly contentType: typeof WITNESS_TEXT_CONTENT_TYPE;
  /** `detail` and a newline, for a plain-text transport (the HTTP route answers a problem instead). */
  readonly body: Uint8Array;
  readonly reason: WitnessRefusalReason;
  readonly detail: string;
  /** The parse or verification error behind a 400 or 403, if any. */
  readonly error?: ParleyError;
}

export type AddCheckpointAnswer = AddCheckpointCosigned | AddCheckpointConflict | AddCheckpointRefused;

/** What each refusal means, for `detail` (verification failures stay uninformative, STYLE.md §7b). */
const DETAIL: Readonly<Record<WitnessRefusalReason, string>> = {
  'log-forked': 'this node holds a fork proof against the log and cosigns none of its checkpoints',
  'party-departed': 'the party left the channel: its checkpoints beyond the end of its log are not cosigned',
  malformed: 'the body is not an add-checkpoint request',
  'unknown-origin': 'this node does not witness that log',
  unverified: 'the checkpoint is not validly signed by its log key',
  'old-size-too-large': 'the old size is larger than the checkpoint size',
  'old-size-mismatch': 'the old size is not the latest cosigned size',
  'proof-with-old-size-zero': 'a consistency proof was sent with old size 0',
  'empty-tree-root': 'the checkpoint is not consistent with the empty tree',
  'root-mismatch': 'the checkpoint is not consistent with the latest cosigned one',
  inconsistent: 'the checkpoint is not consistent with the latest cosigned one',
};

export class WitnessService {
  readonly party: string;
  readonly #locks = new Map<string, Promise<void>>();
  readonly #cosigner: () => SignerKey;
  readonly #governed: () => Governed;
  readonly #store: LogStore;
  readonly #now: () => Date;

  constructor(o: WitnessOptions) {
    this.party = o.party;
    this.#store = o.store;
    this.#governed = o.governed;
    this.#now = o.now ?? (() => new Date());
    const k = o.witnessKey;
    this.#cosigner = typeof k === 'function' ? k : () => k;
  }

  /** The logs this node witnesses: every other party of the accord in force. */
  get logs(): readonly WitnessedLog[] {
    return [...this.#logMap().values()];
  }

  /** This node's cosigning key (cosignature/v1). */
  get cosigner(): SignerKey {
    return this.#cosigner();
  }

  /** origin → log, from the accord in force (a rotated key keeps its origin). */
  #logMap(): Map<string, WitnessedLog> {
    const g = this.#governed();
    const logs = new Map<string, WitnessedLog>();
    for (const p of g.chain.current.accord.parties) {
      if (p.id === this.party) continue;
      const origin = originOf(g, p.id);
      if (origin !== undefined) logs.set(origin, { party: p.id, origin });
    }
    return logs;
  }

  /**
   * Handles a tlog-witness add-checkpoint request body.
   * @param body the request body as received.
   * @returns the status, Content-Type and body to answer; a 200 only after the
   *   new state is durably stored.
   * @throws StoreError when the store fails (nothing was cosigned for the client).
   */
  async addCheckpoint(body: Uint8Array | string): Promise<AddCheckpointAnswer> {
    const b = await this.begin(body);
    return b.status === 200 ? b.durable : b;
  }

  /**
   * {@link addCheckpoint} in two steps, for a caller with work to do while
   * the new state is written (a witnessed push verifies its bundle meanwhile):
   * the decision, and — when it is to cosign — the state to be held and a
   * promise of the answer that settles once that state is durable. Until
   * then no other request for the same log is decided (a per-log lock), so
   * the state cannot change under the caller; the writes the caller issues
   * after this returns reach the store after the witness's own.
   * Should the compare-and-set still fail (another process on the same
   * store), `durable` answers the conflict with what is held, as tlog-witness says.
   * @param body the request body, or the request already parsed from it.
   * @returns the refusal or conflict as {@link addCheckpoint} answers it; or
   *   `{ status: 200, state, durable }`, where `durable` settles with the
   *   cosignature (or, had the state moved after all, the conflict).
   */
  async begin(body: Uint8Array | string | AddCheckpointRequest): Promise<AddCheckpointConflict | AddCheckpointRefused | { readonly status: 200; readonly state: WitnessState; readonly durable: Promise<AddCheckpointCosigned | AddCheckpointConflict> }> {
    const parsed = tryParse(body);
    const g = this.#governed();
    const logs = this.#logMap();
    // A departed party's log (issue 11) is still witnessed up to its end (departedLimit below), never beyond.
    const log = parsed === undefined ? undefined : (logs.get(parsed.checkpoint.origin) ?? departedLog(g, parsed.checkpoint.origin));
    // The keys valid for the checkpoint's size (epochs): both at a rotation size, the new one beyond.
    const keys: VerifierSet | undefined = log === undefined || parsed === undefined ? undefined : checkpointVerifiers(g, log.party, parsed.checkpoint.treeSize);
    // One decision at a time per log, from reading the held state until the new one is durable.
    const release = log === undefined ? () => undefined : await this.#lock(log.party);
    let durable: Promise<AddCheckpointCosigned | AddCheckpointConflict> | undefined;
    try {
      // decideAddCheckpoint is synchronous: read the one state it may ask for first.
      const held = log === undefined ? undefined : await this.#store.witnessState(log.party);
      const outcome = decideAddCheckpoint(parsed ?? body, {
        logKeys: (origin) => (origin === log?.origin ? keys : undefined),
        latest: (origin) => (origin === log?.origin ? held : undefined),
        // core's decider passes (old, new, oldRoot, newRoot, proof); RFC 6962 §2.1.4.2 check.
        checkConsistency: (oldSize, newSize, oldRoot, newRoot, proof) => verifyConsistency(proof, oldSize, newSize, oldRoot, newRoot),
      });
      // A validly signed checkpoint (409, 422 and 200 come after the signature check):
      // evidence first, then no cosignature for a log held forked.
      if (log !== undefined && parsed !== undefined && (outcome.status === 200 || outcome.status === 409 || outcome.status === 422)) {
        if (await isQuarantined(this.#store, log.party)) return forked(log.party);
        await this.#keepEvidence(log, held, parsed, outcome.status);
        if (await isQuarantined(this.#store, log.party)) return forked(log.party);
        // A departed party (issue 11): nothing beyond the end of its log is cosigned.
        const gone = await departedLimit(g, this.#store, log.party);
        if (gone !== undefined && parsed.checkpoint.treeSize > gone) return departed(log.party, gone);
      }
      if (outcome.status === 409) return conflict(outcome.latestSize);
      if (outcome.status === 403 && log !== undefined && parsed !== undefined) {
        // Signed by a key retired before this size: evidence (kept before the refusal), and KEY_RETIRED.
        const retired = retiredSigners(g, log.party, parsed.checkpointNote);
        if (retired !== undefined) {
          await keepRetired(this.#store, retired.party, parsed.checkpointNote);
          const detail = 'the checkpoint is signed by a key retired before its size';
          const error = new VerificationError('KEY_RETIRED', `${log.party}'s checkpoint of size ${retired.size}: ${detail}`);
          return { status: 403, contentType: WITNESS_TEXT_CONTENT_TYPE, body: encodeUtf8(`${detail}\n`), reason: 'unverified', detail, error };
        }
      }
      if (outcome.status !== 200) {
        const detail = DETAIL[outcome.reason];
        return { status: outcome.status, contentType: WITNESS_TEXT_CONTENT_TYPE, body: encodeUtf8(`${detail}\n`), reason: outcome.reason, detail, ...(outcome.error ? { error: outcome.error } : {}) };
      }
      if (log === undefined) throw new Error('internal: cosigning a checkpoint of a log that is not witnessed');

      const cp = outcome.checkpoint;
      // Asked again for exactly the checkpoint held (a pusher that did not get our answer, or that
      // offered it in a reply we cosigned): the cosignature given then, not a later one. Both
      // sides then hold one time for it (deadlines/state.ts judges by it on both).
      const again = held !== undefined && held.treeSize === cp.treeSize ? this.#heldLine(held, outcome.note.text) : undefined;
      if (again !== undefined) {
        const answer: AddCheckpointCosigned = { status: 200, contentType: WITNESS_TEXT_CONTENT_TYPE, body: formatAddCheckpointResponse([again.cosignature]), checkpoint: cp, ...again };
        return { status: 200, state: held!, durable: Promise.resolve(answer) };
      }
      const timestamp = Math.floor(this.#now().getTime() / 1000);
      const cosignature = cosign(outcome.note.text, this.#cosigner(), timestamp);
      const logSignatures = outcome.note.verified.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.signature }));
      const note = formatNote({ text: outcome.note.text, signatures: [...logSignatures, cosignature] });
      const next: WitnessState = { party: log.party, treeSize: cp.treeSize, rootHash: cp.rootHash, note };
      durable = this.#store.advanceWitness(log.party, outcome.request.oldSize, next).then(async (advanced) => {
        if (!advanced) return conflict((await this.#store.witnessState(log.party))?.treeSize ?? 0);
        // ---- DURABLE: the state is stored; the cosignature may leave.
        noteCosigned(this.#store, { party: log.party, cosigner: this.party, size: cp.treeSize, timestamp, note: decodeUtf8(note) });
        const answer: AddCheckpointCosigned = { status: 200, contentType: WITNESS_TEXT_CONTENT_TYPE, body: formatAddCheckpointResponse([cosignature]), checkpoint: cp, cosignature, timestamp };
        return answer;
      });
      return { status: 200, state: next, durable };
    } finally {
      if (durable === undefined) release();
      else void durable.then(release, release);
    }
  }

  /**
   * Keeps what a validly signed checkpoint that does not extend the held one
   * proves (see the module doc); durable before the caller answers.
   */
  async #keepEvidence(log: WitnessedLog, held: WitnessState | undefined, req: AddCheckpointRequest, status: 200 | 409 | 422): Promise<void> {
    if (held === undefined || status === 200) return;
    const cp = req.checkpoint;
    const note = req.checkpointNote;
    if (cp.treeSize === held.treeSize) {
      if (bytesEqual(cp.rootHash, held.rootHash)) return;
      const proof = evidence(() => detectFork(accordView(this.#governed(), log.party, cp.treeSize), log.party, held.note, note));
      if (proof !== undefined) await recordFork(this.#store, log.party, proof);
      return;
    }
    if (cp.treeSize < held.treeSize) {
      // Stale or a second history: the party's log can tell (gossip.ts compares it at the next contact).
      await keepUnverified(this.#store, log.party, decodeUtf8(note));
      return;
    }
    if (status === 422 && req.oldSize === held.treeSize && held.treeSize > 0) {
      // The consistency proof failed: evidence only when it authenticates under the new root.
      const proof = evidence(() => prefixConflictProof(accordView(this.#governed(), log.party, cp.treeSize), log.party, held.note, note, req.proof));
      if (proof !== undefined) await recordFork(this.#store, log.party, proof);
      else await keepUnverified(this.#store, log.party, decodeUtf8(note));
    }
  }

  /** Waits for the log's lock (per party); resolves with its release. */
  async #lock(origin: string): Promise<() => void> {
    const before = this.#locks.get(origin) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = before.then(() => mine);
    this.#locks.set(origin, tail);
    void tail.then(() => {
      if (this.#locks.get(origin) === tail) this.#locks.delete(origin);
    });
    await before;
    return release;
  }

  /** Our cosignature in a held state whose checkpoint text is `text`, with its timestamp; undefined if none. */
  #heldLine(held: WitnessState, text: string): { cosignature: NoteSignature; timestamp: number } | undefined {
    const note = parseNote(held.note);
    if (note.text !== text) return undefined;
    const me = this.#cosigner();
    const line = note.signatures.find((x) => x.name === me.name && x.keyId === me.keyId && x.signature.length === COSIGNATURE_V1_LENGTH);
    return line === undefined ? undefined : { cosignature: line, timestamp: parseCosignature(line.signature).timestamp };
  }

  /**
   * Our cosignature line(s) on the request's checkpoint when that is exactly
   * the latest one this node cosigned for its log (same text) — the answer
   * add-checkpoint would have given had it not lost the race to another
   * request for the same checkpoint (e.g. our own pull of it). Read from the
   * stored state: nothing is signed or written. Undefined otherwise.
   * Used by a witnessed push, whose sender would else need a second request.
   */
  async heldCosignature(request: AddCheckpointRequest): Promise<Uint8Array | undefined> {
    const log = this.#logMap().get(request.checkpoint.origin);
    const held = log === undefined ? undefined : await this.#store.witnessState(log.party);
    if (held === undefined || held.treeSize !== request.checkpoint.treeSize) return undefined;
    const note = parseNote(held.note);
    if (note.text !== request.note.text) return undefined;
    const me = this.#cosigner();
    const ours = note.signatures.filter((x) => x.name === me.name && x.keyId === me.keyId);
    return ours.length > 0 ? formatAddCheckpointResponse(ours) : undefined;
  }

  /**
   * The latest checkpoint this node cosigned for `party`'s log (note with
   * its log signature and our cosignature), for gossip; undefined if none.
   */
  latest(party: string): Promise<WitnessState | undefined> {
    return this.#store.witnessState(party);
  }
}

/**
 * Keeps a checkpoint signed by a retired key as evidence, with the
 * checkpoints kept for comparison (federation/forks.ts `keepUnverified`:
 * insert-only, never deleted). Not as a fork proof: a fork proof
 * quarantines the party's log, and an old key that leaked (the very case a
 * compromise recovery retires it for) must not let its holder freeze the
 * party's new log. The portable proof (kind `retired-key`) is core's
 * `retiredKeyProof(chain, activations, party, note)` of the kept note.
 * @throws StoreError.
 */
export async function keepRetired(store: LogStore, party: string, note: Uint8Array): Promise<void> {
  await keepUnverified(store, party, decodeUtf8(note));
}

function tryParse(body: Uint8Array | string | AddCheckpointRequest): AddCheckpointRequest | undefined {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return body;
  try {
    return parseAddCheckpointRequest(body);
  } catch (e) {
    // decideAddCheckpoint parses again and turns the same error into a 400.
    if (isParleyError(e)) return undefined;
    throw e;
  }
}

/** The refusal for a log this node holds a fork proof against. */
/** The log of a departed party (g.departed) with origin `origin`. */
function departedLog(g: Governed, origin: string): WitnessedLog | undefined {
  for (const party of g.departed?.keys() ?? []) {
    if (g.chain.current.party(party) === undefined && originOf(g, party) === origin) return { party, origin };
  }
  return undefined;
}

/**
 * The largest size of `party`'s log the witness still cosigns when the party
 * left the channel: the end of its log, one more once the entry at the end
 * held here is its activation entry of the version without it; undefined
 * for a party still in the channel.
 */
async function departedLimit(g: Governed, store: LogStore, party: string): Promise<number | undefined> {
  const d = g.departed?.get(party);
  if (d === undefined || g.chain.current.party(party) !== undefined) return undefined;
  const last = await store.received(party, d.end);
  if (last === undefined) return d.end;
  try {
    return isDepartureActivation(d, parseEntry(last.bytes)) ? d.end + 1 : d.end;
  } catch {
    return d.end;
  }
}

function departed(party: string, end: number): AddCheckpointRefused {
  const detail = DETAIL['party-departed'];
  const error = new VerificationError('PARTY_DEPARTED', `${party} left the channel: its log ends at ${end} here`);
  return { status: 403, contentType: WITNESS_TEXT_CONTENT_TYPE, body: encodeUtf8(`${detail}\n`), reason: 'party-departed', detail, error };
}

function forked(party: string): AddCheckpointRefused {
  const detail = DETAIL['log-forked'];
  const error = new VerificationError('LOG_FORKED', `${party}'s log is forked: ${detail}`);
  return { status: 422, contentType: WITNESS_TEXT_CONTENT_TYPE, body: encodeUtf8(`${detail}\n`), reason: 'log-forked', detail, error };
}

function conflict(latestSize: number): AddCheckpointConflict {
  return { status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: encodeUtf8(formatTreeSizeBody(latestSize)), latestSize };
}
