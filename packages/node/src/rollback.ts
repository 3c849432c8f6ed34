/**
 * The continuity guard (issue 9, "No rollback"): a node never signs a second
 * history of its own log.
 *
 * A node's log lives in its data directory. Restore an old backup, lose the
 * WAL after a crash, or copy an old directory, and the log is shorter than
 * the history the node already published: its next entry would get an index
 * that an entry of the published history already has, its next checkpoint
 * would conflict with one a peer cosigned — a fork, for which the peers
 * convict the party, while the hotline is dead. The node cannot see this
 * locally (an old directory looks like any other); its peers can, because
 * each witnessed and cosigned the node's checkpoints (witness.ts) and serves
 * the latest one it cosigned (GET /fed/v1/witness/{party}).
 *
 * So after start, before the node signs anything of its own log (entries,
 * checkpoints, heartbeats, receipts — all pass LogWriter.append, whose gate
 * this is), the guard asks every peer what it last cosigned of our log,
 * verifies each answer (our log key's signature and that peer's
 * cosignature: a peer cannot make us stop by lying) and compares:
 *
 *     state          writes                        /healthz   when
 *     unconfirmed    wait ≤ waitMs, then 503        503        no peer has answered yet
 *                    LOG_UNCONFIRMED
 *     confirmed      allowed                        200        ≥ 1 peer answered, and every
 *                                                              answer (largest cosigned
 *                                                              size S) has S ≤ our size and
 *                                                              our root at S = the cosigned root
 *     rolled-back    409 LOG_ROLLED_BACK            503        S > our size (or another root at S)
 *     recovering     409 LOG_ROLLED_BACK            503        fetching the missing tail
 *     unchecked      allowed                        200        no guard asked (federation off,
 *                                                              or --trust-local-log)
 *
 * Start-up rule when no peer can be reached: writes wait ("unconfirmed") and
 * the guard keeps asking (every retryMs); a write waits up to waitMs for an
 * answer, then fails with LOG_UNCONFIRMED (503, Retry-After) — a sender learns
 * at once that nothing was signed, instead of an entry that might fork the
 * log. One answering peer is enough: every peer is pushed our whole tail
 * with the checkpoint that covers it (its witness cosigns on a push only
 * what it then holds, federation/receive.ts), so the peers' cosigned
 * sizes move together, and a hotline whose other parties are all down has
 * nothing to deliver anyway. Peers that did not answer are still asked in
 * the background; should one later show a larger cosigned checkpoint, the
 * node goes to rolled-back at once. A brand-new channel just works: a peer
 * that never cosigned our log answers 404, which confirms size 0. An operator
 * who knows the local log is the latest (every peer lost) starts with
 * `parley serve --trust-local-log`: state "unchecked", logged loudly.
 *
 * Recovery: every node mirrors every other party's whole log (received
 * entries plus the mirror table, store migration 3; federation/mirror.ts), so
 * the missing tail [our size, S) is fetched from the peers' mirrors (GET
 * /fed/v1/mirror/{party}/entries), each entry verified (our signature, seq =
 * its index), the tree recomputed and its root at S checked against the
 * cosigned checkpoint, and all of it written in one transaction with that
 * checkpoint (LogWriter.adopt). Entries of ours a peer holds beyond S (pushed
 * but not yet cosigned) are adopted after it, under a new checkpoint: they
 * are already signed and delivered, so signing anything else at their
 * indexes would fork the log. Recovery runs at start and on every round
 * while rolled back; `parley recover` runs the same steps on demand.
 */
import {
  type Hash,
  bytesEqual,
  fail,
  formatNote,
  isParleyError,
  openWitnessedCheckpoint,
  parseNote,
  subtreeHash,
  subtreeIndexes,
} from '@parley/core';
import type { LogStore, WriteGate } from '@parley/store';
import type { ParleyNode } from './service.js';
import { type Governed, checkpointVerifiers, noteSize, originOf, witnessKeysOf } from './epochs.js';
import type { PeerClient } from './federation/peer.js';
import { SILENT, type StructuredLogger } from './deadlines/clock.js';

export type ContinuityState = 'unchecked' | 'unconfirmed' | 'confirmed' | 'rolled-back' | 'recovering';

/** What one peer said about our log. */
export interface PeerAnswer {
  readonly party: string;
  /** asking: no answer yet; none: it cosigned nothing of our log (404); cosigned: a verified checkpoint; invalid: an answer that does not verify. */
  readonly status: 'asking' | 'none' | 'cosigned' | 'invalid';
  /** The cosigned size (status cosigned). */
  readonly size?: number;
  /** Why the last request failed (unreachable, refused, did not verify). */
  readonly error?: string;
  /** How many entries of our log beyond our size its mirror holds (after a recovery attempt). */
  readonly mirrored?: number;
}

/** The guard's state as the API, CLI and dashboard show it. */
export interface ContinuityStatus {
  readonly state: ContinuityState;
  /** Our log's size. */
  readonly localSize: number;
  /** The largest verified cosigned size of our log any peer holds (0 when none). */
  readonly cosignedSize: number;
  /** Which peers cosigned that size. */
  readonly cosignedBy: readonly string[];
  readonly peers: readonly PeerAnswer[];
  /** One sentence for an operator: what is wrong and what to do. */
  readonly detail: string;
  /** When the state last changed (RFC 3339). */
  readonly since: string;
}

/** A verified cosigned checkpoint of our log. */
interface Cosigned {
  readonly party: string;
  readonly size: number;
  readonly root: Hash;
  /** The checkpoint with our log signature only (what our checkpoints table holds). */
  readonly note: Uint8Array;
}

export interface GuardOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly peers: readonly PeerClient[];
  /** Longest a write waits while unconfirmed before LOG_UNCONFIRMED (default 5 s). */
  readonly waitMs?: number;
  /** Time between rounds while not every peer has answered, or while rolled back (default 1 s, doubling to 15 s). */
  readonly retryMs?: number;
  readonly logger?: StructuredLogger;
}

/** Most entries asked of a peer's mirror per request. */
export const MIRROR_PAGE = 256;

export class ContinuityGuard {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  readonly #peers: readonly PeerClient[];
  readonly #waitMs: number;
  readonly #retryMs: number;
  readonly #log: StructuredLogger;
  readonly #answers = new Map<string, PeerAnswer>();
  readonly #cosigned = new Map<string, Cosigned>();
  readonly #waiters = new Set<() => void>();
  #state: ContinuityState = 'unconfirmed';
  #detail = 'asking the peers what they last cosigned of this log';
  #since = new Date().toISOString();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | undefined;
  #delay: number;
  #stopped = false;

  constructor(o: GuardOptions) {
    this.#node = o.node;
    this.#store = o.store;
    this.#peers = o.peers;
    this.#waitMs = o.waitMs ?? 5_000;
    this.#retryMs = o.retryMs ?? 1_000;
    this.#delay = this.#retryMs;
    this.#log = o.logger ?? SILENT;
    for (const p of o.peers) this.#answers.set(p.party, { party: p.party, status: 'asking' });
    if (o.peers.length === 0) this.#set('confirmed', 'a channel of one party: no peer can have cosigned this log');
  }

  /** The gate for the node's LogWriter (ParleyNode.setContinuity). */
  readonly gate: WriteGate = () => {
    if (this.#state === 'confirmed' || this.#state === 'unchecked') return undefined;
    if (this.#state === 'rolled-back' || this.#state === 'recovering') return Promise.reject(this.#rolledBack());
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(this.#unconfirmed());
      }, this.#waitMs);
      const wake = () => {
        if (this.#state === 'unconfirmed') return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        if (this.#state === 'confirmed' || this.#state === 'unchecked') resolve();
        else reject(this.#rolledBack());
      };
      this.#waiters.add(wake);
    });
  };

  get state(): ContinuityState {
    return this.#state;
  }

  /** True when writes are allowed. */
  get ok(): boolean {
    return this.#state === 'confirmed' || this.#state === 'unchecked';
  }

  status(): ContinuityStatus {
    const best = this.#best();
    return {
      state: this.#state,
      localSize: this.#node.treeSize,
      cosignedSize: best?.size ?? 0,
      cosignedBy: best ? [...this.#cosigned.values()].filter((c) => c.size === best.size).map((c) => c.party).sort() : [],
      peers: [...this.#answers.values()],
      detail: this.#detail,
      since: this.#since,
    };
  }

  /**
   * Runs the first round (bounded by the peers' request timeout) and keeps
   * asking in the background while some peer has not answered or the log is rolled back.
   */
  async start(): Promise<void> {
    await this.check();
  }

  /** One round now: ask the peers still to be asked, compare, recover if needed. Concurrent calls share one round. */
  check(): Promise<void> {
    this.#round ??= this.#doRound().finally(() => {
      this.#round = undefined;
      this.#schedule();
    });
    return this.#round;
  }

  /** Stops asking. Writes waiting for confirmation fail as they would at their deadline. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const pending = [...this.#answers.values()].some((a) => a.status === 'asking' || a.status === 'invalid');
    if (!pending && this.#state !== 'rolled-back' && this.#state !== 'unconfirmed') return;
    // While writes wait (unconfirmed, rolled back) ask every retryMs; a peer merely still silent after confirmation, less and less often.
    const delay = this.#state === 'confirmed' || this.#state === 'unchecked' ? this.#delay : this.#retryMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.check().catch((e: unknown) => this.#log.error({ event: 'parley.continuity.error', error: String(e) }, 'continuity check failed'));
    }, delay);
    this.#timer.unref?.();
    if (delay === this.#delay) this.#delay = Math.min(15_000, this.#delay * 2);
  }

  async #doRound(): Promise<void> {
    const ask = this.#peers.filter((p) => {
      const a = this.#answers.get(p.party)!;
      return a.status === 'asking' || a.status === 'invalid' || this.#state === 'rolled-back';
    });
    await Promise.all(ask.map((p) => this.#ask(p)));
    await this.#judge();
    if (this.#state === 'rolled-back') await this.recover().catch((e: unknown) => this.#log.warn({ event: 'parley.continuity.recover_failed', error: String(e) }, 'recovery failed'));
  }

  async #ask(peer: PeerClient): Promise<void> {
    const party = peer.party;
    let note: Uint8Array | undefined;
    try {
      note = await peer.witnessed(this.#node.party);
    } catch (e) {
      const prev = this.#answers.get(party)!;
      // An answer already had stays: a peer that goes away does not unsay what it cosigned.
      this.#answers.set(party, { ...prev, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (note === undefined) {
      this.#answers.set(party, { party, status: 'none' });
      return;
    }
    try {
      const c = verifyCosigned(this.#node, this.#node.party, party, note);
      this.#cosigned.set(party, c);
      this.#answers.set(party, { party, status: 'cosigned', size: c.size });
    } catch (e) {
      if (!isParleyError(e)) throw e;
      this.#answers.set(party, { party, status: 'invalid', error: `${e.code}: the checkpoint it served does not verify` });
    }
  }

  /** The largest verified cosigned checkpoint of our log. */
  #best(): Cosigned | undefined {
    let best: Cosigned | undefined;
    for (const c of this.#cosigned.values()) if (best === undefined || c.size > best.size) best = c;
    return best;
  }

  /** Compares what the peers said with our log and sets the state. */
  async #judge(): Promise<void> {
    if (this.#state === 'unchecked' || this.#state === 'recovering') return;
    const answered = [...this.#answers.values()].filter((a) => a.status === 'none' || a.status === 'cosigned');
    const local = this.#node.treeSize;
    for (const c of [...this.#cosigned.values()].sort((a, b) => b.size - a.size)) {
      if (c.size > local) {
        this.#set('rolled-back', `this log has ${local} entries but ${c.party} cosigned a checkpoint of size ${c.size}: the data directory is older than the published log (restored backup, lost WAL or copied directory); recovering the missing ${c.size - local} entries from the peers' mirrors — or run parley recover`);
        return;
      }
      if (!bytesEqual(await this.#rootAt(c.size), c.root)) {
        this.#set('rolled-back', `this log's root at size ${c.size} differs from the checkpoint ${c.party} cosigned: the local log is another history than the published one; it cannot be continued — restore a backup of this node taken before size ${c.size} and run parley recover`);
        return;
      }
    }
    if (answered.length === 0) {
      const why = [...this.#answers.values()].map((a) => `${a.party}: ${a.error ?? a.status}`).join('; ');
      this.#set('unconfirmed', `no peer has answered yet what it cosigned of this log (${why}); writes wait until one does`);
      return;
    }
    const best = this.#best();
    this.#set('confirmed', best ? `log size ${local} ≥ the largest cosigned size ${best.size} (${best.party})` : `log size ${local}; no peer has cosigned this log yet`);
  }

  /** Our root at `size` ≤ our size, from the stored hashes (RFC 6962 §2.1 MTH). */
  async #rootAt(size: number): Promise<Hash> {
    const indexes = subtreeIndexes(0, size);
    return subtreeHash(0, size, await this.#store.readHashes(indexes), 0)[0];
  }

  /**
   * Fetches the missing tail of our log from the peers' mirrors, verifies it
   * against the largest cosigned checkpoint and adopts it (see the module doc).
   * @returns what happened, for `parley recover` and the log.
   */
  async recover(): Promise<RecoveryReport> {
    const best = this.#best();
    const local = this.#node.treeSize;
    if (best === undefined || best.size <= local) return { recovered: 0, from: local, to: local, cosigned: best?.size ?? 0 };
    this.#set('recovering', `fetching entries ${local}…${best.size - 1} of this log from the peers' mirrors`);
    try {
      const { entries, by } = await this.#fetchTail(local, best.size);
      for (const [party, n] of by) this.#answers.set(party, { ...this.#answers.get(party)!, mirrored: n });
      if (local + entries.length < best.size) {
        const held = entries.length === 0 ? "no peer's mirror gave any of them" : `the peers' mirrors gave only entries ${local}…${local + entries.length - 1} (${[...by].map(([p, n]) => `${p} ${n}`).join(', ')})`;
        this.#set('rolled-back', `this log has ${local} entries but ${best.party} cosigned ${best.size}; ${held}: the missing entries ${local + entries.length}…${best.size - 1} must come from a peer that holds them`);
        return { recovered: 0, from: local, to: local, cosigned: best.size, missing: [local + entries.length, best.size] };
      }
      const size = await this.#node.adoptRecovered(entries.slice(0, best.size - local), best.note);
      const extra = entries.length > best.size - local ? await this.#node.adoptRecovered(entries.slice(best.size - local)) : size;
      this.#log.warn({ event: 'parley.continuity.recovered', from: local, to: extra, cosigned: best.size, by: best.party }, `recovered entries ${local}…${extra - 1} of this log from the peers' mirrors`);
      this.#state = 'rolled-back'; // judged again below
      await this.#judge();
      return { recovered: extra - local, from: local, to: extra, cosigned: best.size };
    } catch (e) {
      const why = isParleyError(e) ? `${e.code}: ${e.message}` : String(e);
      this.#set('rolled-back', `recovery from the peers' mirrors failed (${why}); this log has ${local} entries, ${best.party} cosigned ${best.size}`);
      throw e;
    }
  }

  /**
   * Our entries from `from` on, as long as some peer's mirror has the next
   * page: at least up to `need` when the peers hold it, and beyond it what
   * they hold contiguously. Each entry is the bytes only, verified later.
   */
  async #fetchTail(from: number, need: number): Promise<{ entries: Uint8Array[]; by: Map<string, number> }> {
    const entries: Uint8Array[] = [];
    const by = new Map<string, number>();
    // The peer whose checkpoint is the target first: it witnessed the entries.
    const order = [...this.#peers].sort((a, b) => (this.#cosigned.get(b.party)?.size ?? 0) - (this.#cosigned.get(a.party)?.size ?? 0));
    let next = from;
    for (;;) {
      let page: Uint8Array[] = [];
      for (const p of order) {
        try {
          page = await p.mirrored(this.#node.party, next, next + MIRROR_PAGE);
        } catch {
          page = [];
        }
        if (page.length > 0) {
          by.set(p.party, (by.get(p.party) ?? 0) + page.length);
          break;
        }
      }
      if (page.length === 0) break;
      entries.push(...page);
      next += page.length;
      if (next >= need && page.length < MIRROR_PAGE) break;
    }
    return { entries, by };
  }

  #set(state: ContinuityState, detail: string): void {
    const changed = state !== this.#state;
    this.#detail = detail;
    if (!changed) return;
    this.#state = state;
    this.#since = new Date().toISOString();
    const level = state === 'confirmed' || state === 'unchecked' ? 'info' : state === 'unconfirmed' ? 'warn' : 'error';
    this.#log[level]({ event: 'parley.continuity', state, localSize: this.#node.treeSize, detail }, `log continuity: ${state}`);
    for (const w of [...this.#waiters]) w();
  }

  /** Operator override (`--trust-local-log`): accept the local log without any peer's word. */
  trustLocal(): void {
    this.#set('unchecked', 'the operator started this node with --trust-local-log: the local log was not checked against what the peers cosigned');
  }

  #rolledBack(): Error {
    try {
      return fail('LOG_ROLLED_BACK', `${this.#detail} (nothing was signed)`);
    } catch (e) {
      return e as Error;
    }
  }

  #unconfirmed(): Error {
    try {
      return fail('LOG_UNCONFIRMED', `${this.#detail} (nothing was signed; waited ${this.#waitMs} ms)`);
    } catch (e) {
      return e as Error;
    }
  }
}

/** What a recovery did. */
export interface RecoveryReport {
  /** Entries adopted. */
  readonly recovered: number;
  readonly from: number;
  /** Our size after it. */
  readonly to: number;
  /** The largest cosigned size it aimed for. */
  readonly cosigned: number;
  /** [first missing index, cosigned size) when the peers did not hold enough. */
  readonly missing?: readonly [number, number];
}

/**
 * Verifies a checkpoint of `party`'s log (ours) that `peer` served as
 * cosigned: our log key's signature (a key the epochs name for its size)
 * AND the peer's cosignature (a witness key the chain names for it:
 * `witnessKey`, else its log key in cosignature/v1 form, witness.ts),
 * origin = our log's.
 * @returns size, root and the note with our log signature only.
 * @throws ParseError / VerificationError when it does not verify (QUORUM_NOT_MET: no cosignature of the peer).
 */
export function verifyCosigned(g: Governed, party: string, peer: string, note: Uint8Array): Cosigned {
  const origin = originOf(g, party);
  if (origin === undefined) fail('NOTE_UNVERIFIED', `${party} is not a party of the accord`);
  const opened = openWitnessedCheckpoint(note, checkpointVerifiers(g, party, noteSize(note)), witnessKeysOf(g, peer), { origin, quorum: 1 });
  const parsed = parseNote(note);
  const signatures = parsed.signatures.filter((s) => opened.signers.some((x) => x.name === s.name && x.keyId === s.keyId));
  return { party: peer, size: opened.checkpoint.treeSize, root: opened.checkpoint.rootHash, note: formatNote({ text: parsed.text, signatures }) };
}
