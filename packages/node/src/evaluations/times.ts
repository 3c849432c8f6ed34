/**
 * When an evaluation entry provably existed (issue 12, EVAL.md §4), from
 * what this node holds:
 *
 *     provenBy(P, i) = min over checkpoints of P's log with size > i of
 *       (a) the timestamp of a counterpart's cosignature (not P's own witness), and
 *       (b) the trusted time of the checkpoint's RFC 3161 tokens held (k-of-n, {@link earliestStamp})
 *
 * Cosignature times come from three places: the first cosigned note kept for
 * the entry ({@link EvaluationCapture}: the note travels in the evidence
 * bundle, so a verifier finds the same time), the store's cosigned-time
 * history (deadlines/cosigned.ts), and the latest cosigned checkpoint held.
 *
 * Capture. Only the LATEST cosigned checkpoint of a log is kept by the
 * witness and the push cursor; evidence built from it months later would
 * prove the commitment existed only by then — after the deployment. So the
 * first cosigned note covering each commitment and notice is kept, once per
 * cosigner, in the store's evaluation notes (write-once per party, index and
 * cosigner; issue 14), as cosignatures are made or received (noteCosigned).
 */
import { COSIGNATURE_V1_LENGTH, parseCosignature, parseNote } from '@parley/core';
import type { ParleyNode } from '../service.js';
import { type CosignedPoint, onCosigned } from '../deadlines/cosigned.js';
import { COMMITMENT, NOTICE } from './refs.js';
import { type EarliestStamp, earliestTimestamped } from '../tsa/held.js';
import { timestampingOf } from '../tsa/verify.js';

/** A cosigned checkpoint note kept for one entry. */
export interface CapturedNote {
  readonly cosigner: string;
  readonly size: number;
  /** POSIX seconds. */
  readonly timestamp: number;
  readonly note: string;
}

/** Keeps `c` for entry `index` of `party`'s log unless a note of that cosigner is kept (the first stays). */
function keep(node: ParleyNode, party: string, index: number, c: CapturedNote): Promise<boolean> {
  return node.store.addEvaluationNote({ party, index, cosigner: c.cosigner, treeSize: c.size, cosignedAt: c.timestamp, note: c.note });
}

/**
 * The stamped checkpoint of `party`'s log covering `index` with the earliest
 * trusted time (k-of-n, k = the accord's current `required`), from the tokens
 * held (each verified before it was stored: tsa/stamper.ts, tsa/peers.ts).
 */
export function earliestStamp(node: ParleyNode, party: string, index: number): Promise<EarliestStamp | undefined> {
  return earliestTimestamped(node.store, party, index, timestampingOf(node.accord)?.required ?? 1);
}

/** The notes kept for (party, index), one per counterpart that cosigned. */
export async function capturedNotes(node: ParleyNode, party: string, index: number): Promise<CapturedNote[]> {
  const counterparts = new Set(node.accord.accord.parties.map((p) => p.id).filter((p) => p !== party));
  return (await node.store.evaluationNotes(party, index))
    .filter((n) => counterparts.has(n.cosigner))
    .map((n) => ({ cosigner: n.cosigner, size: n.treeSize, timestamp: n.cosignedAt, note: n.note }))
    .sort((a, b) => a.timestamp - b.timestamp);
}

/** The latest cosigned notes held for `party`'s log (own: each peer's; other: our witness's), as captured notes. */
export async function latestCosigned(node: ParleyNode, party: string): Promise<CapturedNote[]> {
  const out: CapturedNote[] = [];
  if (party === node.party) {
    for (const p of node.accord.accord.parties) {
      if (p.id === party) continue;
      const c = await node.store.ownCosigned(p.id);
      if (c?.cosignedAt !== undefined) out.push({ cosigner: p.id, size: c.treeSize, timestamp: c.cosignedAt, note: c.note });
    }
  } else {
    const w = await node.witness.latest(party);
    if (w) {
      const text = new TextDecoder().decode(w.note);
      const sigs = parseNote(text).signatures;
      // Our witness's cosignature lines (cosignature/v1: 72 bytes after the key ID); the log's own are 64.
      const ts = sigs.map((s) => (s.signature.length === COSIGNATURE_V1_LENGTH ? parseCosignature(s.signature).timestamp : undefined));
      const t = ts.filter((x): x is number => x !== undefined);
      if (t.length > 0) out.push({ cosigner: node.party, size: w.treeSize, timestamp: Math.min(...t), note: text });
    }
  }
  return out;
}

/**
 * Keeps, for each counterpart with none kept yet, the latest cosigned note
 * held that covers (party, index): the earliest this node can still prove.
 */
export async function captureLatest(node: ParleyNode, party: string, index: number): Promise<void> {
  for (const c of await latestCosigned(node, party)) {
    if (c.size <= index || c.cosigner === party) continue;
    await keep(node, party, index, c);
  }
}

/** provenBy of (party, index): the earliest trusted time, and how it is proved. */
export async function evaluationProvenBy(node: ParleyNode, party: string, index: number): Promise<{ time: string; how: 'cosignature' | 'timestamp' } | undefined> {
  let best: number | undefined;
  const consider = (ms: number) => {
    if (best === undefined || ms < best) best = ms;
  };
  for (const c of await capturedNotes(node, party, index)) consider(c.timestamp * 1000);
  for (const c of await latestCosigned(node, party)) if (c.size > index && c.cosigner !== party) consider(c.timestamp * 1000);
  for (const t of await node.store.cosignedTimes(party)) if (t.cosigner !== party && t.treeSize > index) consider(t.cosignedAt * 1000);
  const tsa = (await earliestStamp(node, party, index))?.time;
  if (tsa !== undefined && (best === undefined || tsa < best)) return { time: new Date(tsa).toISOString(), how: 'timestamp' };
  return best === undefined ? undefined : { time: new Date(best).toISOString(), how: 'cosignature' };
}

/**
 * Keeps the first cosigned note covering each recent commitment and notice
 * of a log, per cosigner (see the module doc). Work is serialized and
 * coalesced: a burst of cosignatures costs one pass per (log, cosigner).
 */
export class EvaluationCapture {
  readonly #node: ParleyNode;
  readonly #pending = new Map<string, CosignedPoint>();
  /** `party cosigner` → the largest size whose entries were all kept (notes are write-once: no need to look again). */
  readonly #covered = new Map<string, number>();
  #running: Promise<void> = Promise.resolve();
  #scheduled = false;
  readonly #stop: () => void;

  constructor(node: ParleyNode) {
    this.#node = node;
    const stopCosigned = onCosigned(node.store, (p) => this.#note(p));
    // A witness may cosign a checkpoint before the entries it covers are stored here: those are kept on arrival.
    const stopIngest = node.onIngest((records) => {
      const fresh = records.filter((r) => r.meta.type === COMMITMENT || r.meta.type === NOTICE);
      if (fresh.length === 0) return;
      this.#running = this.#running.then(async () => {
        for (const r of fresh) await captureLatest(node, r.party, r.index).catch(() => undefined);
      });
    });
    this.#stop = () => {
      stopCosigned();
      stopIngest();
    };
  }

  #note(p: CosignedPoint): void {
    if (p.note === undefined || p.cosigner === p.party) return;
    this.#pending.set(`${p.party} ${p.cosigner}`, p);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#running = this.#running.then(async () => {
      this.#scheduled = false;
      const points = [...this.#pending.values()];
      this.#pending.clear();
      for (const q of points) await this.#capture(q).catch(() => undefined);
    });
  }

  /** Evaluation entries of `party`'s log held here, most recent first (bounded). */
  async #recent(party: string): Promise<number[]> {
    const s = this.#node.store;
    const out: number[] = [];
    for (const type of [COMMITMENT, NOTICE]) {
      const rows = party === this.#node.party ? await s.outbox({ type, limit: 32 }) : await s.inbox({ type, party, limit: 32 });
      out.push(...rows.map((r) => r.index));
    }
    return out;
  }

  async #capture(p: CosignedPoint): Promise<void> {
    const done = `${p.party} ${p.cosigner}`;
    const from = this.#covered.get(done) ?? 0;
    if (p.size <= from) return;
    for (const index of await this.#recent(p.party)) {
      if (index >= p.size || index < from) continue;
      await keep(this.#node, p.party, index, { cosigner: p.cosigner, size: p.size, timestamp: p.timestamp, note: p.note! });
    }
    this.#covered.set(done, p.size);
  }

  /** Resolves once the notes of every cosignature reported so far are kept. */
  async idle(): Promise<void> {
    await this.#running;
  }

  stop(): void {
    this.#stop();
  }
}
