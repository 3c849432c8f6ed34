/**
 * Governance of one node (issue 11, GOV.md §2–§4): accord amendments as
 * entries, approvals, and automatic activation.
 *
 *     POST /v1/accord/proposals            propose(): accord.amendment + our accord.approval
 *     POST /v1/accord/proposals/{d}/approve approve(): accord.approval (prior key, plus the
 *                                           new key's consent when we hold the pending next key)
 *     received amendment/approval/activation entries (every party's, through ingest) and our
 *     own feed ONE state (proposals by digest, activations); it is rebuilt from the store at open.
 *
 * Activation (GOV.md §2, uniform): when the next version's assembled
 * signatures pass core `verifyAmendment` against the version in force, this
 * node activates it in its own log — the activation entry (a planned log-key
 * rotation first dual-signs the checkpoint at R, then signs the entry at R
 * with the new key: ParleyNode.appendActivation) — then stores the chain
 * file (the store's accord chain) and has the node adopt it. A peer's
 * activation entry is recorded as `{party, version, size: its index}`.
 *
 * Decisions where the design is silent:
 * - A node never approves two different proposals for one version (that
 *   would be signing a fork): `ACCORD_FORKED`.
 * - Signatures are admitted one by one (each checked against its designated
 *   key); a bad one is dropped, never makes the assembled version fail.
 * - An approval entry's signatures count only for the party that sent it; an
 *   amendment entry may carry consents of anyone (a joining party's).
 * - A node whose party a version removes, or a frozen version, halts the
 *   node's writes (`CHANNEL_FROZEN`) once it has activated it.
 *
 * Faults (issue 11):
 * - A lost push: a peer's checkpoint (pull) or bundle (push → pokes the
 *   pull) that no key we know verifies makes the node fetch the peer's chain
 *   file, verify and adopt it ({@link Governance.catchUp}: node.adoptChain
 *   refuses rollbacks and forks), then try once more — at most one fetch per
 *   peer per interval. So a planned rotation does not wait for the others'
 *   activations: a peer down or forked would block it forever, and a peer
 *   that meets the new key catches up by itself.
 * - Two different complete versions N+1 are an accord fork: the proof (core
 *   accordForkProof) is stored (the store's accord fork proofs) before anything is
 *   refused, the fork alarm is raised (federation/forks.ts listeners, the
 *   watcher's ERROR line and webhook), GET /v1/forks lists it. Neither is
 *   adopted when both are seen before one is in force; otherwise the one in
 *   force stays and the other is refused.
 */
import {
  type Accord,
  type AccordChain,
  formatVerifierKey,
  type AccordSignature,
  type ChainFile,
  type ChainFileActivation,
  type JsonValue,
  type SignedAccord,
  type VerifiedAccord,
  ParleyError,
  accordDiff,
  accordId,
  accordSigningMessage,
  accordVersion,
  fail,
  formatBase64,
  getCrypto,
  parseAccord,
  parseBase64,
  parseChainFile,
  activationSuspectFrom,
  KNOWN_TAXONOMIES,
  knownTaxonomy,
  departureRace,
  accordForkProof,
  formatAccordForkProof,
  parseEntry,
  parseVerifierKey,
  verifyAmendment,
  verifyEntry,
  amendmentThreshold,
} from '@parley/core';
import type { ProposalStatus, ProposalView } from '@parley/core';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { MAX_ACCORD_FORKS, accordForkMessage, accordForkParty, accordForkSigners, evidence, notifyForkRecorded } from '../federation/forks.js';
import { storedChain } from '../epochs.js';

const MACHINE = 'node';
const TYPES = ['accord.amendment', 'accord.approval', 'accord.activation'] as const;
/** How an activation entry's canonical text names its type. */
const ACTIVATION_MARK = Buffer.from('"type":"accord.activation"');
/** The mark as it appears inside base64 text, at each of the three byte alignments (the stable middle of each). */
const ACTIVATION_MARK_B64 = [0, 1, 2].map((k) => {
  const text = Buffer.concat([Buffer.alloc(k), ACTIVATION_MARK]).toString('base64');
  const head = k === 0 ? 0 : 4;
  const tail = (k + ACTIVATION_MARK.length) % 3 === 0 ? 0 : 4;
  return Buffer.from(text.slice(head, text.length - tail));
});

/**
 * True when a bundle (JSON with base64 entries) may carry an activation
 * entry: a native byte search, so a push without one costs no extra parse.
 */
export function mayHoldActivation(bundle: Uint8Array): boolean {
  const b = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  return ACTIVATION_MARK_B64.some((m) => b.includes(m));
}

/** A signature as carried in entries and version files (`prior`: made with the key of version N). */
export interface GovSignature {
  readonly party: string;
  readonly sig: string;
  readonly prior?: true;
}

export interface Recovery {
  readonly party: string;
  readonly suspectFrom: number;
}

type Activation = ChainFileActivation;

interface HeldSig extends GovSignature {
  /** Where it was read: the carrying entry. */
  readonly via: { readonly party: string; readonly index: number };
}

interface Proposal {
  readonly digest: string;
  readonly version: number;
  readonly accord: Accord;
  readonly rationale?: string;
  readonly recovery?: Recovery;
  readonly proposer: { readonly party: string; readonly index: number };
  readonly sigs: HeldSig[];
}

/** A proposal as GET /v1/accord/proposals shows it (the wire shape is core's). */
export type { ProposalStatus, ProposalView } from '@parley/core';

/** What a proposal asks (POST /v1/accord/proposals). */
export interface ProposalInput {
  readonly accord: unknown;
  readonly signatures?: readonly GovSignature[];
  readonly rationale?: string;
  readonly recovery?: Recovery;
}

const accordMessage = accordSigningMessage;
const versionOf = (a: VerifiedAccord | Accord): number => ('accord' in a ? a.version : accordVersion(a));
const digestOf = (a: VerifiedAccord): string => a.digest;

export class Governance {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  readonly #proposals = new Map<string, Proposal>();
  /** Approvals read before their proposal (digest → signatures). */
  readonly #orphans = new Map<string, HeldSig[]>();
  /** Activations read from every log (ours too), by `party/version`. */
  readonly #activations = new Map<string, Activation & { readonly digest: string }>();
  /** Entries already applied (party/index). */
  readonly #seen = new Set<string>();
  #file: ChainFile;
  /** The chain in force (node.chain, swapped with it by adoptChain): what governance decides by. */
  #chain: AccordChain;
  #tail: Promise<unknown> = Promise.resolve();
  /** Versions whose activation could not proceed (a key we do not hold): reported once. */
  readonly #waiting = new Set<string>();
  readonly #onError: (e: unknown) => void;

  private constructor(node: ParleyNode, store: LogStore, file: ChainFile, chain: AccordChain, onError: (e: unknown) => void) {
    this.#node = node;
    this.#store = store;
    this.#file = file;
    this.#chain = chain;
    this.#onError = onError;
  }

  /**
   * Attaches governance to a node: rebuilds the state from the store (our
   * log and every received governance entry), subscribes to ingests and
   * activates whatever is due (a joining party's first entry).
   */
  static async attach(node: ParleyNode, store: LogStore, o: { onError?: (e: unknown) => void } = {}): Promise<Governance> {
    const held = await storedChain(store);
    const genesis = node.chain.signed[0]!;
    const versions = [genesis, ...(held?.versions ?? []).filter((v) => accordVersion(v.accord) > 1)];
    const file: ChainFile = { channel: node.chain.channel, versions, activations: held?.activations ?? [] };
    const g = new Governance(node, store, file, node.chain, o.onError ?? (() => undefined));
    node.governance = g;
    for (const a of file.activations) g.#activations.set(`${a.party}/${a.version}`, { ...a, digest: '' });
    await g.#rebuild();
    node.setBeforeIngest((entries) => g.noteActivations(entries));
    node.onIngest((entries) => {
      const gov = entries.filter((e) => (TYPES as readonly string[]).includes(e.meta.type));
      if (gov.length === 0) return;
      for (const e of gov) g.#apply(e.party, e.index, e.bytes);
      g.evaluate();
    });
    g.#haltIfDue();
    await g.evaluate();
    return g;
  }

  /** The chain file (GET /v1/accord/chain): genesis first, then every version ≥ 2, and the activations known here. */
  chainFile(): ChainFile {
    return this.#file;
  }

  /** The verified chain governance runs on. */
  get chain(): AccordChain {
    return this.#chain;
  }

  // ---------------------------------------------------------------------------
  // State: every governance entry, ours and received.

  async #rebuild(): Promise<void> {
    const rows: { party: string; index: number; bytes: Uint8Array }[] = [];
    for (const type of TYPES) {
      for (let before: number | undefined; ; ) {
        const page = await this.#store.outbox({ type, limit: 500, ...(before !== undefined ? { before } : {}) });
        rows.push(...page.map((e) => ({ party: this.#node.party, index: e.index, bytes: e.bytes })));
        if (page.length < 500) break;
        before = page[page.length - 1]!.index;
      }
      for (let before: number | undefined; ; ) {
        const page = await this.#store.inbox({ type, limit: 500, ...(before !== undefined ? { before } : {}) });
        rows.push(...page.map((e) => ({ party: e.party, index: e.index, bytes: e.bytes })));
        if (page.length < 500) break;
        before = page[page.length - 1]!.rowid;
      }
    }
    rows.sort((a, b) => (a.party === b.party ? a.index - b.index : a.party < b.party ? -1 : 1));
    for (const r of rows) this.#apply(r.party, r.index, r.bytes);
  }

  /** Applies one governance entry (already verified, or our own). Malformed ones are ignored: the receipt path rejected them. */
  #apply(party: string, index: number, bytes: Uint8Array): void {
    const key = `${party}/${index}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    let e;
    try {
      e = parseEntry(bytes);
    } catch {
      return;
    }
    if (!('clear' in e.body)) return;
    const body = e.body.clear as Record<string, unknown>;
    try {
      const type: string = e.type;
      if (type === 'accord.amendment') {
        const accord = parseAccord(body['accord']);
        const digest = accordId(accord);
        const sigs = (Array.isArray(body['signatures']) ? (body['signatures'] as GovSignature[]) : []).map((s) => ({ ...s, via: { party, index } }));
        const known = this.#proposals.get(digest);
        if (known) {
          known.sigs.push(...sigs);
          return;
        }
        const recovery = body['recovery'] as Recovery | undefined;
        this.#proposals.set(digest, {
          digest,
          version: versionOf(accord),
          accord,
          ...(typeof body['rationale'] === 'string' ? { rationale: body['rationale'] } : {}),
          ...(recovery ? { recovery: { party: recovery.party, suspectFrom: recovery.suspectFrom } } : {}),
          proposer: { party, index },
          sigs: [...sigs, ...(this.#orphans.get(digest) ?? [])],
        });
        this.#orphans.delete(digest);
      } else if (type === 'accord.approval') {
        const digest = String(body['digest']);
        const sigs = (Array.isArray(body['signatures']) ? (body['signatures'] as GovSignature[]) : []).filter((s) => s.party === party).map((s) => ({ ...s, via: { party, index } }));
        const p = this.#proposals.get(digest);
        if (p) p.sigs.push(...sigs);
        else this.#orphans.set(digest, [...(this.#orphans.get(digest) ?? []), ...sigs]);
      } else if (type === 'accord.activation') {
        const version = Number(body['version']);
        const digest = String(body['digest']);
        const k = `${party}/${version}`;
        if (!this.#activations.has(k) || this.#activations.get(k)!.digest === '') {
          this.#activations.set(k, { party, version, size: index, entry: formatBase64(bytes), digest });
        }
      }
    } catch {
      // A body that does not parse was answered with a rejection on receipt; it takes no part here.
    }
  }

  /** `s` verified against its designated key: `prior` (or a kept, unchanged key) → version N's; plain → N+1's. */
  #valid(prev: VerifiedAccord, next: Accord, s: GovSignature): boolean {
    const key = s.prior ? prev.party(s.party)?.party.logKey : next.parties.find((p) => p.id === s.party)?.logKey;
    if (key === undefined) return false;
    try {
      return getCrypto().ed25519Verifier(parseVerifierKey(key).publicKey)(accordMessage(next), parseBase64(s.sig));
    } catch {
      return false;
    }
  }

  /** The proposal's valid signatures, one of each kind per party, sorted (party, then plain before prior). */
  #assemble(p: Proposal, prev: VerifiedAccord): SignedAccord {
    const out = new Map<string, GovSignature>();
    for (const s of p.sigs) {
      const k = `${s.party}/${s.prior ? 'p' : 'n'}`;
      if (!out.has(k) && this.#valid(prev, p.accord, s)) out.set(k, { party: s.party, sig: s.sig, ...(s.prior ? { prior: true as const } : {}) });
    }
    const signatures = [...out.values()].sort((a, b) => (a.party !== b.party ? (a.party < b.party ? -1 : 1) : (a.prior ? 1 : 0) - (b.prior ? 1 : 0)));
    return { accord: p.accord, signatures: signatures as AccordSignature[] };
  }

  // ---------------------------------------------------------------------------
  // Reads.

  /** Every proposal known here, newest version first. */
  list(): ProposalView[] {
    return [...this.#proposals.values()].sort((a, b) => b.version - a.version || (a.digest < b.digest ? -1 : 1)).map((p) => this.#view(p));
  }

  get(digest: string): ProposalView | undefined {
    const p = this.#proposals.get(digest);
    return p && this.#view(p);
  }

  #status(p: Proposal): { status: ProposalStatus; prev?: VerifiedAccord } {
    const chain = this.#chain;
    const cur = chain.current;
    const curV = versionOf(cur);
    const at = chain.version(p.version);
    if (at) return { status: digestOf(at) === p.digest ? 'active' : 'refused' };
    if (p.version <= curV) return { status: 'refused' };
    if (p.version > curV + 1) return { status: 'pending' };
    try {
      verifyAmendment(cur, this.#assemble(p, cur));
      return { status: 'complete', prev: cur };
    } catch (e) {
      const code = e instanceof ParleyError ? e.code : '';
      return { status: code === 'ACCORD_QUORUM' || code === 'ACCORD_CONSENT' ? 'pending' : 'refused', prev: cur };
    }
  }

  #view(p: Proposal): ProposalView {
    const { status } = this.#status(p);
    const prev = this.#chain.version(p.version - 1);
    const signed = prev ? this.#assemble(p, prev) : { accord: p.accord, signatures: p.sigs };
    const sigs = signed.signatures as GovSignature[];
    const indexOf = (s: GovSignature) => p.sigs.find((h) => h.party === s.party && h.sig === s.sig)?.via.index ?? p.proposer.index;
    const before = prev?.accord;
    const kept = before ? before.parties.filter((x) => p.accord.parties.some((y) => y.id === x.id)) : [];
    const changed = (id: string) => {
      const a = before?.parties.find((x) => x.id === id) as { logKey: string; witnessKey?: string } | undefined;
      const b = p.accord.parties.find((x) => x.id === id) as { logKey: string; witnessKey?: string } | undefined;
      return a !== undefined && b !== undefined && (a.logKey !== b.logKey || a.witnessKey !== b.witnessKey);
    };
    const need = p.accord.parties.filter((x) => !before?.parties.some((y) => y.id === x.id) || changed(x.id)).map((x) => x.id);
    const have = need.filter((id) => sigs.some((s) => s.party === id && !s.prior));
    const keyChanged = (id: string) => before?.parties.find((x) => x.id === id)?.logKey !== p.accord.parties.find((x) => x.id === id)?.logKey;
    const recovered = kept.filter((x) => keyChanged(x.id) && !sigs.some((s) => s.party === x.id && s.prior)).map((x) => x.id);
    const eligible = kept.filter((x) => !recovered.includes(x.id)).map((x) => x.id);
    const approving = eligible.filter((id) => sigs.some((s) => s.party === id && (s.prior || !keyChanged(id))));
    return {
      digest: p.digest,
      version: p.version,
      proposer: p.proposer,
      accord: p.accord,
      ...(p.rationale !== undefined ? { rationale: p.rationale } : {}),
      ...(p.recovery !== undefined ? { recovery: p.recovery } : {}),
      diff: before ? (accordDiff(before, p.accord) as ProposalView['diff']) : [],
      approvals: sigs.map((s) => ({ party: s.party, prior: s.prior === true, index: indexOf(s) })),
      consents: { need, have },
      quorum: { need: before ? amendmentThreshold(before.amendmentQuorum, before.parties.length, eligible.length) : 0, have: approving.length },
      status,
    };
  }

  // ---------------------------------------------------------------------------
  // Writes.

  /** Our signatures for `next`: prior with our key in force (unless we are the party being recovered), plain with the pending next key when `next` names it. */
  #ourSignatures(cur: VerifiedAccord, next: Accord, recovery?: Recovery): GovSignature[] {
    const me = this.#node.party;
    const msg = accordMessage(next);
    const out: GovSignature[] = [];
    const mine = next.parties.find((p) => p.id === me);
    const inCur = cur.party(me) !== undefined;
    const nextKey = this.#node.nextKeys.logKey;
    if (mine && nextKey !== undefined && mine.logKey === nextKey && mine.logKey !== cur.party(me)?.party.logKey) {
      out.push({ party: me, sig: formatBase64(this.#node.signWithLogKey(msg, 'next')!) });
    }
    if (inCur && recovery?.party !== me) out.push({ party: me, sig: formatBase64(this.#node.signWithLogKey(msg, 'current')!), prior: true });
    return out;
  }

  /** True when our log holds an approval of another proposal of this version. */
  #approvedOther(version: number, digest: string): boolean {
    const me = this.#node.party;
    return [...this.#proposals.values()].some((p) => p.version === version && p.digest !== digest && p.sigs.some((s) => s.via.party === me && s.party === me));
  }

  /**
   * Checks a proposed version against the version in force with core
   * verifyAmendment's rules, all but quorum and consent.
   * @throws ACCORD_MALFORMED, ACCORD_VERSION, ACCORD_CHAIN, SIGNATURE_INVALID.
   */
  #precheck(cur: VerifiedAccord, signed: SignedAccord): void {
    try {
      verifyAmendment(cur, signed);
    } catch (e) {
      if (e instanceof ParleyError && (e.code === 'ACCORD_QUORUM' || e.code === 'ACCORD_CONSENT')) return;
      throw e;
    }
  }

  /**
   * Proposes version N+1: checks it (verifyAmendment's rules as far as they
   * go before quorum), then appends the accord.amendment entry and our
   * accord.approval entry to our log.
   * @throws ParseError `ACCORD_MALFORMED`; `ACCORD_VERSION` (skipped, repeated or old version),
   *   `ACCORD_CHAIN`, `SIGNATURE_INVALID`, `ACCORD_FORKED` (we approved another proposal of this
   *   version), `STORE_CONFLICT` (this proposal is already known), `CHANNEL_FROZEN`.
   */
  propose(officer: string, input: ProposalInput): Promise<{ digest: string; index: number }> {
    return this.#serial(async () => {
      const cur = this.#chain.current;
      const me = this.#node.party;
      if (!cur.party(me)) fail('ACCORD_MALFORMED', `${me} is not a party of the accord in force`);
      const accord = parseAccord(input.accord);
      checkTaxonomyKnown(cur.accord, accord);
      const given = [...(input.signatures ?? [])];
      const signed: SignedAccord = { accord, signatures: sortSigs(given) as AccordSignature[] };
      this.#precheck(cur, signed);
      if (input.recovery !== undefined) {
        const r = input.recovery;
        if (!cur.party(r.party) || !accord.parties.some((p) => p.id === r.party)) fail('ACCORD_MALFORMED', `recovery.party ${r.party} is not a party kept by the amendment`);
        if (r.party === me) fail('ACCORD_MALFORMED', 'a party does not recover its own key: the others propose it');
        if (cur.party(r.party)!.party.logKey === accord.parties.find((p) => p.id === r.party)!.logKey) fail('ACCORD_MALFORMED', `the amendment does not change ${r.party}'s log key`);
        if (!Number.isSafeInteger(r.suspectFrom) || r.suspectFrom < 0) fail('ACCORD_MALFORMED', 'recovery.suspectFrom must be a log size');
      }
      const digest = accordId(accord);
      if (this.#proposals.has(digest)) fail('STORE_CONFLICT', `proposal ${digest} is known: approve it instead`);
      if (this.#approvedOther(versionOf(accord), digest)) fail('ACCORD_FORKED', `this party approved another version ${versionOf(accord)}: approving a second would sign a fork`);
      const ours = this.#ourSignatures(cur, accord, input.recovery);
      // Every signature must verify now: a proposal carries only what counts.
      this.#precheck(cur, { accord, signatures: sortSigs(mergeSigs(given, ours)) as AccordSignature[] });
      const to = cur.accord.parties.map((p) => p.id).filter((id) => id !== me);
      const amendment = await this.#node.submit(officer, {
        type: 'accord.amendment',
        to,
        precedence: 'PRIORITY',
        marking: 'TLP:CLEAR',
        body: { accord, signatures: sortSigs(given), ...(input.rationale !== undefined ? { rationale: input.rationale } : {}), ...(input.recovery !== undefined ? { recovery: input.recovery } : {}) } as unknown as JsonValue,
      });
      await this.#appendOwn(amendment.index);
      if (ours.length > 0) {
        const approval = await this.#node.submit(officer, {
          type: 'accord.approval',
          to,
          precedence: 'PRIORITY',
          marking: 'TLP:CLEAR',
          refs: [{ party: me, index: amendment.index, hash: amendment.leafHash }],
          body: { version: versionOf(accord), digest, signatures: sortSigs(ours) } as unknown as JsonValue,
        });
        await this.#appendOwn(approval.index);
      }
      void this.evaluate();
      return { digest, index: amendment.index };
    });
  }

  /**
   * Approves a known proposal: an accord.approval entry with our prior-key
   * signature, plus the plain signature of the pending next key when the
   * proposal names it for us.
   * @returns undefined when no such proposal is known.
   * @throws `ACCORD_VERSION` when it is not the next version (any more);
   *   `ACCORD_FORKED` when we approved another proposal of this version;
   *   `STORE_CONFLICT` when we already approved it; `ACCORD_MALFORMED` when we have nothing to sign with.
   */
  approve(officer: string, digest: string): Promise<{ index: number } | undefined> {
    return this.#serial(async () => {
      const p = this.#proposals.get(digest);
      if (!p) return undefined;
      const cur = this.#chain.current;
      const curV = versionOf(cur);
      if (p.version !== curV + 1) fail('ACCORD_VERSION', `proposal ${digest} is version ${p.version}; the next version is ${curV + 1}`);
      if (p.accord.previous !== digestOf(cur)) fail('ACCORD_CHAIN', `proposal ${digest} does not follow the version in force`);
      checkTaxonomyKnown(cur.accord, p.accord);
      if (this.#approvedOther(p.version, digest)) fail('ACCORD_FORKED', `this party approved another version ${p.version}: approving a second would sign a fork`);
      const me = this.#node.party;
      const ours = this.#ourSignatures(cur, p.accord, p.recovery);
      const fresh = ours.filter((s) => !p.sigs.some((h) => h.party === me && (h.prior === true) === (s.prior === true) && this.#valid(cur, p.accord, h)));
      if (ours.length === 0) fail('ACCORD_MALFORMED', `${me} has no key to approve this proposal with`);
      if (fresh.length === 0) fail('STORE_CONFLICT', `${me} already approved proposal ${digest}`);
      const to = cur.accord.parties.map((x) => x.id).filter((id) => id !== me);
      const proposalEntry = p.proposer.party === me ? await this.#store.entry(p.proposer.index) : await this.#store.received(p.proposer.party, p.proposer.index);
      const s = await this.#node.submit(officer, {
        type: 'accord.approval',
        to,
        precedence: 'PRIORITY',
        marking: 'TLP:CLEAR',
        ...(proposalEntry ? { refs: [{ party: p.proposer.party, index: p.proposer.index, hash: formatBase64(proposalEntry.leafHash) }] } : {}),
        body: { version: p.version, digest, signatures: sortSigs(fresh) } as unknown as JsonValue,
      });
      await this.#appendOwn(s.index);
      void this.evaluate();
      return { index: s.index };
    });
  }

  async #appendOwn(index: number): Promise<void> {
    const e = await this.#store.entry(index);
    if (e) this.#apply(this.#node.party, index, e.bytes);
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(f);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------------------
  // Activation.

  /** Activates every version that is due (complete and next, or ours to join); errors go to onError. */
  evaluate(): Promise<void> {
    return this.#serial(async () => {
      try {
        await this.#evaluate();
      } catch (e) {
        this.#onError(e);
      }
    });
  }

  async #evaluate(): Promise<void> {
    for (let guard = 0; guard < 1000; guard++) {
      const chain = this.#chain;
      const cur = chain.current;
      const me = this.#node.party;
      const curV = versionOf(cur);
      // A version in force that our log has not activated yet (we joined by it, or a crash came between).
      if (curV > 1 && cur.party(me) && !this.#activations.has(`${me}/${curV}`)) {
        await this.#activateOwn(cur, this.#file.versions.find((v) => versionOf(v.accord) === curV), chain.version(curV - 1));
        continue;
      }
      let done = false;
      // Every complete proposal of the next version: two different ones are an accord fork — the proof is
      // kept and neither is adopted (which one is "the" version is not this node's to pick).
      const complete: { signed: SignedAccord; next: VerifiedAccord; p: Proposal }[] = [];
      for (const p of this.#proposals.values()) {
        if (p.version !== curV + 1) continue;
        const signed = this.#assemble(p, cur);
        let next: VerifiedAccord;
        try {
          next = verifyAmendment(cur, signed);
        } catch {
          continue;
        }
        complete.push({ signed, next, p });
      }
      if (complete.length > 1) {
        await this.#keepFork(complete[0]!.signed, complete[1]!.signed, cur);
        break;
      }
      if (complete.length === 1 && !this.#forked.has(complete[0]!.p.digest)) done = await this.#adopt(complete[0]!.signed, complete[0]!.next, complete[0]!.p);
      if (!done) break;
    }
    await this.#checkForks();
    await this.#recordPeers();
  }

  /**
   * Adds version `signed` to the chain, then activates it in our log.
   * @returns true when the chain moved; false when the activation waits (a key we do not hold, or the others' activations).
   */
  async #adopt(signed: SignedAccord, next: VerifiedAccord, p: Proposal): Promise<boolean> {
    const prev = this.#chain.current;
    const key = `${this.#node.party}/${p.version}`;
    const held = this.#activations.get(key);
    if (held !== undefined && held.digest === p.digest) {
      // Our log already holds the activation entry (a crash came before the chain file was stored).
      const { digest: _d, ...activation } = held;
      await this.#save({ channel: this.#file.channel, versions: [...this.#file.versions, signed], activations: [...this.#file.activations, activation] });
      this.#haltIfDue();
      return true;
    }
    if (!next.party(this.#node.party)) {
      // Removed: the activation entry tells the others we saw it; then this node writes no more.
      await this.#activateOwn(next, signed, prev, p);
      return true;
    }
    const needsKey = this.#keyChange(prev, next);
    // A log-key rotation no longer waits for the others' activations (a peer down or forked would block it
    // forever): a peer that meets our checkpoint under the new key before it knows the version or our
    // activation fetches our chain file and catches up (catchUp, from the pull).
    if (needsKey === 'missing') {
      if (!this.#waiting.has(key)) {
        this.#waiting.add(key);
        this.#onError(new ParleyError('ACCORD_CONSENT', `version ${p.version} names a key of ${this.#node.party} this node does not hold (log.key.next): it is not activated here`));
      }
      return false;
    }
    await this.#activateOwn(next, signed, prev, p);
    return true;
  }

  /** 'none' when our keys stay, 'held' when the new ones are our pending next keys, 'missing' otherwise. */
  #keyChange(prev: VerifiedAccord | undefined, next: VerifiedAccord): 'none' | 'held' | 'missing' {
    const me = next.party(this.#node.party)!.party;
    const logOk = me.logKey === this.#node.logKey || me.logKey === this.#node.nextKeys.logKey;
    const hpkeNow = prev?.party(this.#node.party)?.party.hpkeKey;
    const hpkeOk = me.hpkeKey === hpkeNow || me.hpkeKey === this.#node.nextKeys.hpkeKey || prev?.party(this.#node.party) === undefined;
    if (!logOk || !hpkeOk) return 'missing';
    return me.logKey === this.#node.logKey && me.hpkeKey === hpkeNow ? 'none' : 'held';
  }

  /** Appends our activation entry of `next`, stores the chain file with it and has the node adopt it. */
  async #activateOwn(next: VerifiedAccord, signed: SignedAccord | undefined, prev: VerifiedAccord | undefined, p?: Proposal): Promise<void> {
    const me = this.#node.party;
    const v = versionOf(next);
    const digest = digestOf(next);
    if (signed === undefined) signed = { accord: next.accord, signatures: next.signatures };
    const mine = next.party(me)?.party;
    const recovery = p?.recovery ?? this.#proposals.get(digest)?.recovery;
    const to = [...new Set([...(prev?.accord.parties ?? []), ...next.accord.parties].map((x) => x.id))].filter((id) => id !== me).sort();
    const rotateLog = mine !== undefined && mine.logKey !== this.#node.logKey;
    // A recovery of our own key: the suspect range goes into the body, signed by the new key (core epochs.ts).
    const suspectFrom = recovery?.party === me && logKeyChanges(this.#chain, me, next) ? recovery.suspectFrom : undefined;
    const { index, bytes } = await this.#node.appendActivation({
      officer: MACHINE,
      to,
      body: suspectFrom === undefined ? { version: v, digest } : { version: v, digest, suspectFrom },
      nextLog: rotateLog,
      nextHpke: mine !== undefined && prev?.party(me) !== undefined && mine.hpkeKey !== prev.party(me)!.party.hpkeKey,
      dual: rotateLog && recovery?.party !== me && prev?.party(me) !== undefined,
      // A version that removes us or freezes the channel: its activation entry is our log's last (the node halts
      // before any write held behind it goes on — a receipt of a peer's push must not follow it).
      ...(haltReason(next, me) !== undefined ? { halts: haltReason(next, me)! } : {}),
    });
    const activation: Activation = { party: me, version: v, size: index, entry: formatBase64(bytes), ...(suspectFrom !== undefined ? { suspectFrom } : {}) };
    this.#seen.add(`${me}/${index}`);
    this.#activations.set(`${me}/${v}`, { ...activation, digest });
    const versions = this.#file.versions.some((x) => versionOf(x.accord) === v) ? this.#file.versions : [...this.#file.versions, signed];
    const others = this.#file.activations.filter((a) => !(a.party === me && a.version === v));
    await this.#save({ channel: this.#file.channel, versions, activations: mine === undefined ? others : [...others, activation] });
    this.#haltIfDue();
  }

  /** Least time between two chain fetches from one peer ({@link catchUp}). */
  catchUpIntervalMs = 5_000;
  /** When each peer's chain file was last fetched (party → ms). */
  readonly #caughtUp = new Map<string, number>();

  /**
   * Catches up with a peer whose checkpoint (or bundle) no key we know
   * verifies: it may follow an accord version or an activation whose entry
   * never reached us (a lost push). Fetches the peer's chain file (GET
   * /v1/accord/chain), merges it with ours (its versions when it is longer;
   * every activation of either side, ours kept where both hold one) and has
   * the node adopt it — core verifyChainFile from our genesis, refusing a
   * rollback or a fork (node.adoptChain) — then activates what became due.
   * At most once per peer per {@link catchUpIntervalMs}: a peer serving
   * garbage costs one fetch per interval, never a loop.
   * @returns true when the chain moved (the caller tries again once); false
   *   when nothing new was learnt, the interval has not passed, or the file was refused.
   */
  async catchUp(peer: { readonly party: string; chainFile(): Promise<Uint8Array> }): Promise<boolean> {
    const now = Date.now();
    const last = this.#caughtUp.get(peer.party);
    if (last !== undefined && now - last < this.catchUpIntervalMs) return false;
    this.#caughtUp.set(peer.party, now);
    let theirs: ChainFile;
    try {
      theirs = parseChainFile(await peer.chainFile());
    } catch (e) {
      this.#onError(e);
      return false;
    }
    const moved = await this.#serial(async () => {
      const ours = this.#file;
      const genesis = ours.versions[0]!;
      const theirVersions = [genesis, ...theirs.versions.filter((v) => accordVersion(v.accord) > 1)];
      if (theirs.channel !== ours.channel) return false;
      const shared = Math.min(theirVersions.length, ours.versions.length);
      for (let i = 1; i < shared; i++) {
        if (accordId(theirVersions[i]!.accord) !== accordId(ours.versions[i]!.accord)) {
          // Another version i than ours: evidence (when both are valid), and refused.
          await this.#forkFromChain(theirVersions);
          this.#onError(new ParleyError('ACCORD_FORKED', `${peer.party} serves another accord version ${i + 1} than the one in force here: refused`));
          return false;
        }
      }
      const versions = theirVersions.length > ours.versions.length ? theirVersions : ours.versions;
      const held = new Set(ours.activations.map((a) => `${a.party}/${a.version}`));
      const add = theirs.activations.filter((a) => a.version <= versions.length && !held.has(`${a.party}/${a.version}`) && a.party !== this.#node.party);
      if (versions === ours.versions && add.length === 0) return false;
      const next: ChainFile = { channel: ours.channel, versions, activations: [...ours.activations, ...add] };
      try {
        await this.#save(next);
      } catch (e) {
        if (e instanceof ParleyError && e.code === 'ACCORD_FORKED') await this.#forkFromChain(theirVersions);
        this.#onError(e);
        return false;
      }
      for (const a of add) {
        const v = this.#chain.version(a.version);
        if (v) this.#activations.set(`${a.party}/${a.version}`, { ...a, digest: digestOf(v) });
      }
      this.#haltIfDue();
      return true;
    });
    if (moved) await this.evaluate();
    return moved;
  }

  /** A peer's chain whose version N differs from ours: when both are valid N after one version, that is an accord fork. */
  async #forkFromChain(theirs: readonly SignedAccord[]): Promise<void> {
    for (let i = 1; i < theirs.length && i < this.#chain.versions.length; i++) {
      const mine = this.#chain.versions[i]!;
      if (accordId(theirs[i]!.accord) === mine.digest) continue;
      await this.#keepFork({ accord: mine.accord, signatures: mine.signatures }, theirs[i]!, this.#chain.versions[i - 1]!);
      return;
    }
  }

  /** Digests of versions already kept as a side of an accord fork proof. */
  readonly #forked = new Set<string>();

  /**
   * Keeps an accord fork proof (core accordForkProof: two different valid
   * versions N+1 after one version N) durably — store setting
   * `addAccordForkProof`, at most {@link MAX_ACCORD_FORKS} — BEFORE the
   * second version is refused, then raises the fork alarm (the listeners of
   * federation/forks.ts: watcher, federator, live events) and reports
   * `ACCORD_FORKED` to onError.
   * @returns true when a proof is held (new or already).
   */
  async #keepFork(a: SignedAccord, b: SignedAccord, prev: VerifiedAccord): Promise<boolean> {
    const proof = evidence(() => accordForkProof(a, b, prev));
    if (proof === undefined) return false;
    this.#forked.add(accordId(a.accord));
    this.#forked.add(accordId(b.accord));
    const text = formatAccordForkProof(proof);
    if (await this.#store.addAccordForkProof(text, new Date().toISOString(), MAX_ACCORD_FORKS)) {
      // ---- durable: the evidence is kept; now the alarm.
      notifyForkRecorded(this.#store, accordForkParty(proof));
    }
    const race = departureRace(prev.accord, a.accord, b.accord);
    this.#onError(
      new ParleyError(
        'ACCORD_FORKED',
        race === undefined
          ? `two different valid accord versions ${proof.version} follow version ${proof.version - 1}: the proof is kept (GET /v1/forks); the second is refused`
          : `${accordForkMessage({ signers: accordForkSigners(proof), race, fork: { version: proof.version } })} The proof is kept (GET /v1/forks).`,
      ),
    );
    return true;
  }

  /** Proposals that are valid versions N+1 of a version N in force, other than the held N+1: accord forks. */
  async #checkForks(): Promise<void> {
    for (const p of this.#proposals.values()) {
      if (this.#forked.has(p.digest)) continue;
      const at = this.#chain.version(p.version);
      const prev = this.#chain.version(p.version - 1);
      if (!at || !prev || at.digest === p.digest || p.accord.previous !== prev.digest) continue;
      const signed = this.#assemble(p, prev);
      if (evidence(() => verifyAmendment(prev, signed)) === undefined) continue;
      await this.#keepFork({ accord: at.accord, signatures: at.signatures }, signed, prev);
    }
  }

  /** Peers' activations of versions in our chain, not yet in the chain file. */
  async #recordPeers(): Promise<void> {
    const inFile = new Set(this.#file.activations.map((a) => `${a.party}/${a.version}`));
    const add: Activation[] = [];
    for (const [k, a] of this.#activations) {
      if (inFile.has(k) || a.party === this.#node.party) continue;
      const v = this.#chain.version(a.version);
      // A removed party's activation (it is not in the version) is evidence in its log, not an epoch.
      if (!v || (a.digest !== '' && digestOf(v) !== a.digest) || !v.party(a.party)) continue;
      // The suspect range of a recovery is the one the party's new key signed in its activation entry.
      const suspectFrom = activationSuspectFrom(a.entry);
      add.push({ party: a.party, version: a.version, size: a.size, entry: a.entry, ...(suspectFrom !== undefined ? { suspectFrom } : {}) });
    }
    if (add.length > 0) await this.#save({ ...this.#file, activations: [...this.#file.activations, ...add] });
  }

  readonly #chainListeners = new Set<(chain: AccordChain) => void>();

  /**
   * Calls `listener` after each change of the chain file (a version added,
   * an activation recorded). Listeners must not throw.
   * @returns a function that removes it.
   */
  onChain(listener: (chain: AccordChain) => void): () => void {
    this.#chainListeners.add(listener);
    return () => this.#chainListeners.delete(listener);
  }

  /**
   * Runs on a chain another process of the party stored (node.followChain,
   * issue 14), as if this one had saved it: `file` is the stored chain file
   * (versions ≥ 2), `chain` its verified chain, already in force in the node.
   */
  async followStored(file: ChainFile, chain: AccordChain): Promise<void> {
    await this.#serial(async () => {
      this.#file = { channel: file.channel, versions: [this.#file.versions[0]!, ...file.versions], activations: file.activations };
      this.#chain = chain;
      for (const a of file.activations) {
        const v = chain.version(a.version);
        this.#activations.set(`${a.party}/${a.version}`, { ...a, digest: v !== undefined ? digestOf(v) : '' });
      }
      for (const l of this.#chainListeners) l(chain);
      this.#haltIfDue();
    });
  }

  async #save(file: ChainFile): Promise<void> {
    // The node verifies the whole file (activation entries included) and stores it (the store's accord chain)
    // before it runs on it; a file it refuses changes nothing here either.
    const chain = await this.#node.adoptChain(file);
    this.#file = file;
    this.#chain = chain;
    for (const l of this.#chainListeners) l(chain);
  }

  #haltIfDue(): void {
    const why = haltReason(this.#chain.current, this.#node.party);
    if (why !== undefined) this.#node.halt(why);
  }

  /**
   * Before an ingest is verified: a peer's activation entry of a version in
   * our chain is checked under that version's key for the party (a removed
   * party's: its key in the version before) and recorded first, so the
   * entries from it on are judged by that version (a new key; a new party
   * among the recipients). Called before every ingest and before a pushed
   * bundle is opened (federation/receive.ts).
   */
  async noteActivations(entries: readonly Uint8Array[]): Promise<void> {
    let found = false;
    for (const bytes of entries) {
      // The hot path (every ingest): a native byte search before any parse. Entries are canonical JSON.
      if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(ACTIVATION_MARK)) continue;
      let e;
      try {
        e = parseEntry(bytes);
      } catch {
        continue;
      }
      if (e.type !== 'accord.activation' || !('clear' in e.body) || e.from.party === this.#node.party) continue;
      const body = e.body.clear as { version?: unknown; digest?: unknown };
      if (typeof body.version !== 'number' || typeof body.digest !== 'string') continue;
      if (this.#activations.has(`${e.from.party}/${body.version}`)) continue;
      const v = this.#chain.version(body.version);
      if (!v || digestOf(v) !== body.digest) continue;
      const member = v.party(e.from.party) ?? this.#chain.version(body.version - 1)?.party(e.from.party);
      if (!member) continue;
      try {
        verifyEntry(bytes, v, member);
      } catch {
        continue;
      }
      this.#apply(e.from.party, e.seq, bytes);
      found = true;
    }
    if (found) await this.#serial(() => this.#recordPeers());
  }
}

/**
 * Refuses an amendment that moves the channel to a taxonomy this build does
 * not know (core knownTaxonomy): this node could not check reports under it,
 * so it neither proposes nor approves it.
 * @throws VerificationError `TAXONOMY_UNKNOWN`.
 */
function checkTaxonomyKnown(cur: Accord, next: Accord): void {
  const a = cur.taxonomy;
  const b = next.taxonomy;
  if (a.id === b.id && a.version === b.version && a.sha256 === b.sha256) return;
  if (knownTaxonomy(b) !== undefined) return;
  fail('TAXONOMY_UNKNOWN', `accord version ${versionOf(next)} names taxonomy ${b.id} version ${b.version} (sha256 ${b.sha256.slice(0, 16)}…), which this node does not know (it knows ${KNOWN_TAXONOMIES.map((t) => `${t.id} ${t.version}`).join(', ')}): upgrade Parley on every node first`);
}

function sortSigs(sigs: readonly GovSignature[]): GovSignature[] {
  return [...sigs].sort((a, b) => (a.party !== b.party ? (a.party < b.party ? -1 : 1) : (a.prior ? 1 : 0) - (b.prior ? 1 : 0)));
}

function mergeSigs(a: readonly GovSignature[], b: readonly GovSignature[]): GovSignature[] {
  const out = new Map<string, GovSignature>();
  for (const s of [...a, ...b]) out.set(`${s.party}/${s.prior ? 'p' : 'n'}`, s);
  return [...out.values()];
}

/**
 * True when version `v` changes `party`'s log key. A recovery's declared suspect range is kept on any
 * such change, not only when the version still looks like a recovery: whoever holds the stolen old key
 * can add its prior signature to the recovery (core epochs.ts accepts suspectFrom on the same rule).
 */
function logKeyChanges(chain: AccordChain, party: string, v: VerifiedAccord): boolean {
  const before = chain.version(v.version - 1)?.party(party);
  const now = v.party(party);
  return before !== undefined && now !== undefined && formatVerifierKey(before.logKey) !== formatVerifierKey(now.logKey);
}

/** Why a node of `party` writes no more under `v` (removed from the channel, or the channel frozen), or undefined. */
function haltReason(v: VerifiedAccord, party: string): string | undefined {
  if (!v.party(party)) return `${party} was removed from the channel by accord version ${versionOf(v)}`;
  if ((v as { frozen?: boolean }).frozen === true) return `the channel is frozen by accord version ${versionOf(v)} (a withdrawal left one party)`;
  return undefined;
}
