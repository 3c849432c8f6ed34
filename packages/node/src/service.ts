/**
 * ParleyNode: one party's node, without HTTP — the logic every route and
 * CLI command calls. It holds the party's keys and the verified accord, turns
 * officers' reports and messages into signed (and, unless TLP:CLEAR, sealed)
 * entries of the party's own log through the group-committing LogWriter,
 * verifies entries received from other parties and answers each with a
 * machine receipt, and serves the log (checkpoint, tiles, entries, proofs).
 *
 * Write path (acknowledged = durable):
 *
 *     check body (core entry/bodies.ts) → seal to recipients + self (HPKE) → LogWriter.append:
 *       prepare(index, time) signs the envelope {seq: index, time} → one
 *       transaction per batch: entries + stored hashes + signed checkpoint
 *     → resolve with the index, leaf hash and checkpoint
 */
import {
  type BundleInput,
  type Checkpoint,
  type EntryRef,
  type EntryType,
  type Envelope,
  type HpkeKeyPair,
  type JsonValue,
  type Marking,
  type Precedence,
  type SignedAccord,
  type SignedEntry,
  type SignerKey,
  type VerifiedAccord,
  type VerifiedBundle,
  type AuthenticatedRequest,
  CONTENT_DIGEST_HEADER,
  REQUEST_SIGNATURE_HEADER,
  type VerifiedRequestHead,
  PRECEDENCES,
  TAXONOMY_V1,
  severity as severityLevel,
  bytesEqual,
  consistencyProofFromHashes,
  consistencyProofIndexes,
  ParleyError,
  fail,
  formatBase64,
  formatVerifierKey,
  getCrypto,
  inclusionProofFromHashes,
  inclusionProofIndexes,
  makeBundle,
  newSigner,
  openBody,
  parseEntry,
  sealBody,
  signCheckpoint,
  needsAck,
  signEntry,
  entrySigning,
  signRequest,
  signRequestWithDigest,
  storedHashIndex,
  cosignerKey,
  parseChainFile,
  verifierKeyOf,
  verifyAccord,
  verifyRequest,
  verifyRequestBody,
  verifyRequestHead,
} from '@parley/core';
import { createHash, createHmac } from 'node:crypto';
import { type EntryMeta, type ListQuery, type LogStore, type OwnEntry, type Prepared, type ReceivedEntry, type ReceivedListing, type Role, LogWriter } from '@parley/store';
import { PersistentNonceCache } from './nonces.js';
import { takeIdempotencyKey } from './idempotency.js';
import { checkBody, type IncidentReport } from './bodies.js';
import { checkAtlasTechniques } from '@parley/core/stix';
import { type VerifyPool, throwVerdict } from './verifyPool.js';
import type { SignPool } from './signPool.js';
import { WitnessService } from './witness.js';
import { isQuarantined, setForkGenesis } from './federation/forks.js';
import { judgeReceivedBody, judgeReferences, needsAnswer, rejectionDraft, rejectionOf, withOpened, withRejection } from './received.js';
import { bindTimestampVerifier } from './tsa/verify.js';
import { type RetractedMark, judgeRetractions, retractedMark, retractionOf } from './retractions.js';
import type { ContinuityGuard } from './rollback.js';
import { Governance } from './governance/governance.js';
import { type AccordChain, type AccordEpochs, type ChainFile, type DepartedLog, type Governed, LEGACY_CHAIN_SETTING, departedParties, loadChain, refuseDeparted, storedChain, storedChainFile, verifyEntryAt } from './epochs.js';

/** The party's secrets, decrypted in memory only. */
export interface NodeKeys {
  /** Log signing key: signs checkpoints and entries; its name is the log origin. */
  readonly log: SignerKey;
  /** X25519 key pair that opens bodies sealed to this party. */
  readonly hpke: HpkeKeyPair;
  /**
   * Pending next keys (`log.key.next`, `hpke.key.next` in the data dir): the
   * node signs its consent to an amendment naming them, and switches to them
   * when that amendment is activated (governance/).
   */
  readonly next?: { readonly log?: SignerKey; readonly hpke?: HpkeKeyPair };
  /** Earlier HPKE key pairs (encrypted at rest like the current one), kept so bodies sealed to them still open. */
  readonly retiredHpke?: readonly HpkeKeyPair[];
  /**
   * The witness's cosigning key (`witness.key` in the data directory), when
   * it has its own (issue 11); absent = the log key's cosignature/v1 (0x04)
   * form. Must be the accord's `witnessKey` for this party when it names one.
   */
  readonly witness?: SignerKey;
}

export interface NodeOptions {
  /** The genesis accord (version 1, the data directory's accord.json); later versions come from the store's accord chain. */
  readonly accord: SignedAccord | VerifiedAccord;
  readonly party: string;
  readonly keys: NodeKeys;
  readonly store: LogStore;
  readonly now?: () => Date;
  readonly maxBatch?: number;
  /** Worker threads for signature checks on ingest (optional). */
  readonly verifyPool?: VerifyPool;
  /**
   * Worker threads that sign our entries (optional; issue 14): a batch's
   * entries are signed on every core, beside the previous batch's commit.
   * Without it, entries are signed on the event loop.
   */
  readonly signPool?: SignPool;
}

/** What a write returns once durable. */
export interface Submitted {
  readonly index: number;
  /** Base64 leaf hash: with party and index, how others reference the entry. */
  readonly leafHash: string;
  readonly treeSize: number;
  readonly entry: SignedEntry;
}

/** What an officer writes; the node fills in sender, sequence and time. */
export interface Draft {
  readonly type: EntryType;
  readonly to?: readonly string[];
  readonly precedence: Precedence;
  readonly marking: Marking;
  readonly refs?: readonly EntryRef[];
  readonly body: unknown;
}

/** Delivery state of an entry, from this node's log. */
export interface EntryState {
  readonly receipt?: { readonly index: number; readonly time: string };
  readonly ack?: { readonly index: number; readonly time: string; readonly officer: string };
}

/** An entry as a viewer may see it. */
export interface EntryView {
  readonly party: string;
  readonly index: number;
  readonly leafHash: string;
  readonly entry: SignedEntry;
  /** The body: clear, opened for this party, or absent (sealed and not entitled, or not addressed to us). */
  readonly body?: JsonValue;
  /** Why there is no body. */
  readonly sealed?: 'not-entitled' | 'not-a-recipient';
  /** For received entries: our receipt and acknowledgement of it. */
  readonly state?: EntryState;
  /** Written by a party's compromised key: after its last witnessed checkpoint, before its key was recovered (issue 11). */
  readonly suspect?: true;
  /** Withdrawn by its sender (issue 13, retractions.ts): by which retraction, why, and its replacement. */
  readonly retracted?: RetractedMark;
}

/** Roles that may read sealed bodies addressed to this party. Auditors see metadata and commitments only. */
const READS_SEALED: readonly Role[] = ['officer', 'admin'];
const MACHINE = 'node';
/**
 * Entry types an officer does not acknowledge: every type core's entry-type
 * registry does not mark `ack` — machine traffic, answers (issue 9),
 * governance (answered by approvals) and types this node does not know.
 */
export function unacknowledgeable(type: string): boolean {
  return !needsAck(type);
}
/** Received entries read per page by a follower that catches up (ParleyNode.followIngest). */
const FOLLOW_PAGE = 256;
/** Most entries one receipt acknowledges (the envelope allows 16 refs). */
export const RECEIPT_REFS = 16;

export class ParleyNode implements Governed {
  readonly party: string;
  readonly origin: string;
  /** This node as a C2SP tlog-witness of every other party's log (witness.ts). */
  readonly witness: WitnessService;
  #keys: NodeKeys;
  readonly #store: LogStore;
  readonly #writer: LogWriter;
  readonly #now: () => Date;
  #sign: (m: Uint8Array) => Uint8Array;
  /** The seed of the key {@link #sign} signs with: what the signing pool is given. */
  #signSeed: Uint8Array;
  readonly #signPool: SignPool | undefined;
  /** Signs our checkpoints (governance: both keys at a planned rotation's size). */
  #signCheckpoint: (cp: Checkpoint) => Uint8Array;
  /** Set while a rotation is in progress: holds every other write (rotate()). */
  #rotating: Promise<void> | undefined;
  /** Set by rotate() around its own appends, so they pass the rotation's hold. */
  #bypass = false;
  /** Why this node writes no more (a frozen channel, or this party was removed): CHANNEL_FROZEN. */
  #halted: string | undefined;
  readonly #pool: VerifyPool | undefined;
  /** Nonces of verified node-to-node requests (federation/request.ts replay protection), one cache per node, kept in the store (nonces.ts). */
  readonly #nonces: PersistentNonceCache;
  readonly #appendListeners = new Set<(treeSize: number) => void>();
  readonly #ingestListeners = new Set<(entries: readonly ReceivedEntry[]) => void>();
  /**
   * Serializes ingest's "already held?" check with its durable write per
   * ENTRY ("party/index": the ingest holding it), so a concurrent push and
   * pull store and receipt an entry once, while ingests of different entries
   * go together (one batch, one commit). One queue for the whole node made
   * every push and pull wait a commit of its own behind all the others — the
   * line acknowledgements stalled in (issue 14's soak stall, {@link #acking}).
   */
  readonly #ingesting = new Map<string, Promise<unknown>>();
  /**
   * Serializes acknowledge's "already acknowledged?" check with its durable
   * write (one ack per entry). The acknowledgement being made of each entry ("party/index"): the check
   * and the durable write are serialized per ENTRY, not per node — one
   * queue for the whole node let a burst of acknowledgements (after a fault,
   * with clients resending the ones that timed out) wait one commit each in
   * line until every client gave up, for good (issue 14's soak stall).
   */
  readonly #acking = new Map<string, Promise<unknown>>();
  /** The runtime's rollback guard (rollback.ts), if any: the gate of every write. */
  #continuity: ContinuityGuard | undefined;
  /**
   * Set once a recovered tail was adopted: it may hold our receipts of
   * entries the restored store no longer holds, which pulls now bring again
   * — those are stored without a second receipt.
   */
  #adopted = false;
  /** The accord chain and key epochs in force (epochs.ts); swapped whole by {@link adoptChain}. */
  #governed: Governed;
  readonly #genesis: { readonly signed: SignedAccord; readonly verified: VerifiedAccord };
  /** Serializes {@link adoptChain}. */
  #chainTail: Promise<unknown> = Promise.resolve();
  /** The ends of departed parties' logs (epochs.ts DepartedLog; the store's departed logs). */
  #departed: ReadonlyMap<string, DepartedLog> = new Map();

  private constructor(o: NodeOptions, genesis: { signed: SignedAccord; verified: VerifiedAccord }, governed: Governed, writer: LogWriter, witnessKey: SignerKey) {
    this.#genesis = genesis;
    this.#governed = governed;
    this.party = o.party;
    this.origin = o.keys.log.name;
    this.#keys = o.keys;
    this.#store = o.store;
    this.#writer = writer;
    this.#now = o.now ?? (() => new Date());
    this.#sign = getCrypto().ed25519Signer(o.keys.log.seed);
    this.#signSeed = o.keys.log.seed;
    this.#signPool = o.signPool;
    const signer = newSigner(o.keys.log);
    this.#signCheckpoint = (cp) => signCheckpoint(cp, signer);
    this.#pool = o.verifyPool;
    this.#nonces = new PersistentNonceCache(o.store);
    // Without its own witness.key the witness cosigns with the log key's 0x04 form: it follows a rotation (issue 11).
    const ownWitness = o.keys.witness !== undefined;
    let derived = { from: o.keys.log, key: witnessKey };
    const currentWitness = (): SignerKey => {
      if (ownWitness) return witnessKey;
      if (derived.from !== this.#keys.log) derived = { from: this.#keys.log, key: cosignerKey(this.#keys.log) };
      return derived.key;
    };
    this.witness = new WitnessService({ governed: () => this, party: o.party, witnessKey: currentWitness, store: o.store, ...(o.now !== undefined ? { now: o.now } : {}) });
  }

  /** The accord in force: the chain's current version (its `id` is the channel id). */
  get accord(): VerifiedAccord {
    return this.#governed.chain.current;
  }

  /** The verified accord chain (genesis and every adopted version). */
  get chain(): AccordChain {
    return this.#governed.chain;
  }

  /** The key epochs every verifier asks (epochs.ts). */
  get epochs(): AccordEpochs {
    return this.#governed.epochs;
  }

  /** The ends of the logs of parties the version in force no longer names (epochs.ts DepartedLog). */
  get departed(): ReadonlyMap<string, DepartedLog> {
    return this.#departed;
  }

  /**
   * Records the end of the log of every party the chain in force no longer
   * names and that has no end yet (at adoption, and at open after a crash
   * between storing the chain and its ends): the larger of the size our
   * witness last cosigned for it and one past the highest index we hold.
   * Entries below it were fixed before we adopted the version (a cosigned
   * checkpoint commits to them, so they may still arrive late); anything
   * beyond may have been written after the party left.
   */
  async #recordDeparted(chain: AccordChain = this.#governed.chain): Promise<ReadonlyMap<string, DepartedLog>> {
    const held = new Set((await this.#store.departedLogs()).map((d) => d.party));
    const fresh: DepartedLog[] = [];
    for (const { party, version } of departedParties(chain)) {
      if (party === this.party || held.has(party)) continue;
      const cosigned = (await this.#store.witnessState(party))?.treeSize ?? 0;
      const end = Math.max(cosigned, (await this.#store.highestReceived(party)) + 1);
      fresh.push({ party, version: version.version, digest: version.digest, end });
    }
    // Insert-only: of two processes recording one party at once, the first end stays, and both read it back.
    if (fresh.length > 0) await this.#store.addDepartedLogs(fresh);
    // ---- durable
    const next = await this.#store.departedLogs();
    return new Map(next.filter((d) => chain.current.party(d.party) === undefined).map((d) => [d.party, d]));
  }

  /**
   * The chain file of the chain in force (GOV.md §2; what `GET /v1/accord/chain`
   * serves): every version from the genesis, and the recorded activations.
   */
  async chainFile(): Promise<ChainFile> {
    const stored = await storedChain(this.#store);
    return { channel: this.chain.channel, versions: this.chain.signed, activations: stored?.activations ?? [] };
  }

  /**
   * Adopts a longer accord chain: verifies the chain file (core
   * `verifyChainFile`, from this node's genesis), checks that it extends the
   * chain in force (every version held, same digest; every activation held
   * kept), stores it durably (the store's accord chain), then swaps chain and
   * epochs together — a verifier sees the old pair or the new one, never a
   * mix. Concurrent calls run one after another.
   * @param input the chain file (GOV.md §2: parsed, text or bytes), with or without version 1.
   * @returns the new chain.
   * @throws VerificationError `ACCORD_VERSION` for a chain shorter than the
   *   one in force (a rollback) or dropping an activation, `ACCORD_FORKED` for
   *   one whose version N differs from the held version N; the chain's own
   *   errors (core parseChainFile, verifyChainFile: `ACCORD_MALFORMED`,
   *   `ACCORD_CHAIN`, `ACCORD_QUORUM`, `ACCORD_CONSENT`, `SIGNATURE_INVALID`, …);
   *   nothing is stored then.
   */
  adoptChain(input: ChainFile | string | Uint8Array): Promise<AccordChain> {
    const run = this.#chainTail.then(async () => {
      const file = parseChainFile(input);
      const next = loadChain(this.#genesis.signed, this.#genesis.verified, file);
      const held = this.#governed.chain;
      if (next.chain.versions.length < held.versions.length) fail('ACCORD_VERSION', `the chain ends at version ${next.chain.versions.length}, before version ${held.versions.length} in force (rolled back)`);
      held.versions.forEach((v, i) => {
        if (next.chain.versions[i]!.digest !== v.digest) fail('ACCORD_FORKED', `the chain's version ${i + 1} is not the version ${i + 1} in force`);
      });
      const oldActs = (await storedChain(this.#store))?.activations ?? [];
      const newActs = file.activations;
      for (const a of oldActs) {
        if (!newActs.some((b) => b.party === a.party && b.version === a.version && b.size === a.size)) fail('ACCORD_VERSION', `the chain drops ${a.party}'s activation of version ${a.version} at ${a.size}`);
      }
      // The store refuses (STORE_CONFLICT) a chain that does not extend the one it holds: another
      // process on the same database may have adopted a longer one meanwhile.
      const revision = await this.#store.putAccordChain(storedChainFile(file));
      // ---- durable: the node runs on this chain from now on, and after a restart.
      // A version that no longer names a party: the end of its log, stored, then in force with the chain
      // (swapped together: no entry is judged by the new chain without the ends).
      const departed = await this.#recordDeparted(next.chain);
      this.#governed = next;
      this.#departed = departed;
      this.#chainRevision = revision;
      this.#pool?.adopt(file, this.#genesis.signed);
      return next.chain;
    });
    this.#chainTail = run.catch(() => undefined);
    return run;
  }

  /** The revision of the store's accord chain this node runs on (LogStore.accordChainRevision; 0: the genesis alone). */
  #chainRevision = 0;

  /**
   * Several processes of one party (issue 14): runs on the chain another
   * process of the party (the sequencer) stored, when the store's chain
   * revision moved past the one this node runs on. The stored chain is
   * verified from our genesis like any chain file (core verifyChainFile),
   * must extend the chain in force (every version held, same digest), and is
   * swapped in with the departed parties' ends exactly as {@link adoptChain}
   * does; governance then runs on it too. Nothing is written but the
   * departed ends (insert-only: the sequencer's stay).
   * @returns the new chain, or undefined when the store holds no newer one.
   * @throws the chain's verification errors; VerificationError `ACCORD_FORKED`
   *   for a stored chain that is not an extension of the one in force.
   */
  followChain(): Promise<AccordChain | undefined> {
    const run = this.#chainTail.then(async () => {
      if ((await this.#store.accordChainRevision()) === this.#chainRevision) return undefined;
      const held = await this.#store.accordChain();
      if (held === undefined) return undefined;
      const file: ChainFile = { channel: held.channel, versions: held.versions, activations: held.activations };
      const next = loadChain(this.#genesis.signed, this.#genesis.verified, file);
      const cur = this.#governed.chain;
      if (next.chain.versions.length < cur.versions.length || cur.versions.some((v, i) => next.chain.versions[i]!.digest !== v.digest)) {
        fail('ACCORD_FORKED', `the stored accord chain (revision ${held.revision}) does not extend the one in force here`);
      }
      const departed = await this.#recordDeparted(next.chain);
      this.#governed = next;
      this.#departed = departed;
      this.#chainRevision = held.revision;
      this.#pool?.adopt(file, this.#genesis.signed);
      await this.governance?.followStored(file, next.chain);
      await this.#followOwnKeys();
      return next.chain;
    });
    this.#chainTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Several processes of one party (issue 14): the log key that signs our
   * next entry, as our own log and the chain in force say — the one the
   * epochs name at our tree size, or the key of the version our latest own
   * activation entry activated (the sequencer that wrote it may have died
   * before the chain recorded the activation). Undefined: nothing to say
   * (no version names us).
   */
  async #ownKeyInForce(): Promise<string | undefined> {
    const size = await this.#store.treeSize();
    let key = this.#governed.epochs.keysFor(this.party, size)?.member.party.logKey;
    const [act] = await this.#store.outbox({ type: 'accord.activation', limit: 1 });
    if (act !== undefined) {
      try {
        const body = parseEntry(act.bytes).body as { clear?: { version?: unknown } };
        const version = typeof body.clear?.version === 'number' ? this.#governed.chain.version(body.clear.version) : undefined;
        const named = version?.party(this.party)?.party.logKey;
        // Entries after our latest activation entry are signed by the key its version names (appendActivation).
        if (named !== undefined) key = named;
      } catch {
        // our own entry: it parses; if not, the epochs answer alone
      }
    }
    return key;
  }

  /**
   * Follows a rotation of our own log key that another process of the party
   * (the sequencer) activated: when the key in force for our next entry
   * ({@link #ownKeyInForce}) is the pending next key this process holds
   * (log.key.next), it becomes the key — entries, checkpoints, the signing
   * pool and the witness (without witness.key) use it from now on, the next
   * HPKE key of the version becomes the HPKE key and the old one is kept
   * retired — exactly as the sequencer switched at its activation entry and
   * as a restart would (promoteNextKeys). A key in force that this process
   * does not hold is recorded: it must not sign ({@link checkSigningKey}).
   */
  async #followOwnKeys(): Promise<void> {
    const want = await this.#ownKeyInForce();
    if (want === undefined || want === this.logKey) {
      this.#keyMissing = undefined;
      return;
    }
    const next = this.#keys.next;
    if (next?.log === undefined || formatVerifierKey(verifierKeyOf(next.log)) !== want) {
      this.#keyMissing = want;
      return;
    }
    const named = this.#governed.chain.current.party(this.party)?.party.hpkeKey;
    const hpkeMoved = next.hpke !== undefined && named === formatBase64(next.hpke.publicKey) && !bytesEqual(next.hpke.publicKey, this.#keys.hpke.publicKey);
    this.#retireLogSeed(this.#keys.log.seed);
    this.#keys = {
      ...this.#keys,
      log: next.log,
      hpke: hpkeMoved ? next.hpke! : this.#keys.hpke,
      retiredHpke: [...(hpkeMoved ? [this.#keys.hpke] : []), ...(this.#keys.retiredHpke ?? [])],
      next: {},
    };
    const signer = newSigner(next.log);
    this.#sign = getCrypto().ed25519Signer(next.log.seed);
    this.#signSeed = next.log.seed;
    this.#signCheckpoint = (cp) => signCheckpoint(cp, signer);
    this.#keyMissing = undefined;
  }

  /** The log key in force for our next entry when this process does not hold it (set by {@link #followOwnKeys}). */
  #keyMissing: string | undefined;

  /**
   * Before a process of the party signs as its sequencer: its log key must be
   * the one in force for its next entry (a rotation another process
   * activated is followed first, {@link followChain}).
   * @throws VerificationError `KEY_RETIRED` when this process holds only a
   *   key the party rotated away from (its data directory lacks log.key.next):
   *   it must not become the sequencer.
   */
  async checkSigningKey(): Promise<void> {
    await this.#chainTail;
    await this.#followOwnKeys();
    if (this.#keyMissing !== undefined) {
      fail('KEY_RETIRED', `${this.party}'s log key in force is ${this.#keyMissing}, which this process does not hold (it holds the retired ${this.logKey}): copy log.key.next into its data directory and restart it`);
    }
  }

  /**
   * Opens a node: the accord must be signed by every party, the keys must be
   * the ones the accord names for `party`, and the store must belong to this
   * accord (a new store is bound to it).
   * @throws VerificationError `ACCORD_UNSIGNED`; ParseError `ACCORD_MALFORMED` for keys that are not the party's.
   */
  static async open(o: NodeOptions): Promise<ParleyNode> {
    o = await promoteNextKeys(o);
    const genesis = 'id' in o.accord ? o.accord : verifyAccord(o.accord);
    if (!genesis.complete) fail('ACCORD_UNSIGNED', 'the node runs only on an accord signed by every party');
    const signedGenesis: SignedAccord = { accord: genesis.accord, signatures: genesis.signatures };
    // A data directory of another channel or party is refused before its chain is read.
    const bound = await o.store.getSetting('accord');
    if (bound !== undefined && ((bound as { id?: string }).id !== genesis.id || (bound as { party?: string }).party !== o.party)) {
      fail('STORE_CONFLICT', 'this data directory belongs to another accord or party');
    }
    // The chain: genesis, then the versions adopted since (the store's accord chain). A chain left in
    // the old settings key is one the store migration could not read: refuse, never run on the genesis alone.
    if ((await o.store.getSetting(LEGACY_CHAIN_SETTING)) !== undefined) {
      fail('STORE_CORRUPT', `the data directory holds an accord chain in the old setting ${LEGACY_CHAIN_SETTING} that the store migration could not read; restore it from a backup or another node (GET /v1/accord/chain) with \`parley accord install\``);
    }
    const heldChain = await o.store.accordChain();
    const governed = loadChain(signedGenesis, genesis, heldChain && { channel: heldChain.channel, versions: heldChain.versions, activations: heldChain.activations });
    const accord = governed.chain.current;
    // A party the accord in force no longer names (removed, or withdrawn) still reopens its own data directory:
    // its keys are those of its last epoch, and governance (attach → haltIfDue) halts it, so it serves its log
    // read-only and refuses every write with CHANNEL_FROZEN (issue 11).
    const departedAs = accord.party(o.party) === undefined && governed.chain.versions.some((v) => v.party(o.party) !== undefined) ? governed.epochs.epochs(o.party).at(-1)?.member : undefined;
    const me = accord.party(o.party) ?? departedAs;
    if (!me) fail('ACCORD_MALFORMED', `${o.party} is not a party of the accord (a joining party starts once the amendment that adds it is in force and its chain is installed)`);
    // Our key: the one of the current version, or (a rotation adopted, not yet activated in our log) the one governing our next entry.
    const logKey = formatVerifierKey(verifierKeyOf(o.keys.log));
    const ours = [me, governed.epochs.keysFor(o.party, await o.store.treeSize())?.member].filter((m) => m !== undefined);
    if (!ours.some((m) => m.party.logKey === logKey)) fail('ACCORD_MALFORMED', `the log key is not ${o.party}'s key in the accord`);
    if (!ours.some((m) => m.party.hpkeKey === formatBase64(o.keys.hpke.publicKey))) fail('ACCORD_MALFORMED', `the HPKE key is not ${o.party}'s key in the accord`);
    // The witness key: its own (witness.key), else the log key's 0x04 form; the accord's witnessKey for us when it names one.
    const witnessKey = cosignerKey(o.keys.witness ?? o.keys.log);
    // Others trust only the witness key the accord names for us (witnessKey, else the log key's 0x04 form):
    // a witness.key it does not name would cosign in vain.
    if (!ours.some((m) => formatVerifierKey(m.witnessKey) === formatVerifierKey(verifierKeyOf(witnessKey)))) {
      fail('ACCORD_MALFORMED', `the witness key is not ${o.party}'s witness key in the accord`);
    }
    if (bound === undefined) await o.store.putSetting('accord', { id: genesis.id, party: o.party });
    setForkGenesis(o.store, genesis);
    let self: ParleyNode | undefined;
    const writer = await LogWriter.open(o.store, {
      origin: o.keys.log.name,
      signCheckpoint: (cp: Checkpoint) => self!.#signCheckpoint(cp),
      ...(o.maxBatch !== undefined ? { maxBatch: o.maxBatch } : {}),
      ...(o.now !== undefined ? { now: o.now } : {}),
    });
    const node = new ParleyNode(o, { signed: signedGenesis, verified: genesis }, governed, writer, witnessKey);
    self = node;
    node.#chainRevision = heldChain?.revision ?? 0;
    bindTimestampVerifier(o.store, node);
    node.#writer.setGate(node.#gate());
    node.#departed = await node.#recordDeparted();
    if (governed.chain.versions.length > 1) o.verifyPool?.adopt(storedChainFile(await node.chainFile()), signedGenesis);
    await node.#nonces.load(node.#now().getTime() / 1000);
    await Governance.attach(node, o.store);
    return node;
  }

  /**
   * Every other party of the version governing our next entry: the default
   * recipients. That is the version our log has activated, which may be
   * older than the chain's current version (adopted, not yet activated here):
   * an entry addressing a party of a later version would be invalid at its
   * position (issue 11).
   */
  get counterparts(): string[] {
    return this.versionAtNext.accord.parties.map((p) => p.id).filter((id) => id !== this.party);
  }

  /** The accord version that governs our log's next entry (epochs.keysFor(us, size)), else the version in force. */
  get versionAtNext(): VerifiedAccord {
    return this.#governed.epochs.keysFor(this.party, this.#writer.size)?.version ?? this.accord;
  }

  get treeSize(): number {
    return this.#writer.size;
  }

  /** The node's store: where evidence found on any path (e.g. a fork proof on import) is kept. */
  get store(): LogStore {
    return this.#store;
  }

  /**
   * Appends an entry written by `officer` (or the node itself).
   * @throws ParseError `ENTRY_MALFORMED` (bad addressing or body), VerificationError `ENTRY_INVALID` (unknown party).
   */
  submit(officer: string, d: Draft): Promise<Submitted> {
    if (this.#halted !== undefined) return Promise.reject(new ParleyError('CHANNEL_FROZEN', this.#halted));
    return this.#submit(officer, d, []);
  }

  /**
   * {@link submit}, storing `received` (entries of other parties) in the same transaction as the entry.
   * @param o.anyRecipients addressing beyond the accord in force (an activation entry addresses the parties of two versions; TLP:CLEAR only).
   * @param o.onIndex called with the entry's index while it is prepared.
   */
  async #submit(officer: string, d: Draft, received: readonly ReceivedEntry[], o: { readonly anyRecipients?: boolean; readonly onIndex?: (index: number) => void } = {}): Promise<Submitted> {
    // A frozen channel, or a party removed from it, writes nothing more: no message, receipt or heartbeat (issue 11).
    if (this.#halted !== undefined && o.anyRecipients !== true) fail('CHANNEL_FROZEN', this.#halted);
    const draft = this.#draft(officer, d, o);
    // The request's Idempotency-Key, if it has one (http/idempotency.ts): stored with the entry.
    const idempotency = takeIdempotencyKey(officer, (a) => a.map((x) => ({ index: x.index, leafHash: formatBase64(x.leafHash), treeSize: x.treeSize, entry: draft.signed()! })));
    const r = await this.#writer.append(
      (index, time) => {
        o.onIndex?.(index);
        return draft.prepare(index, time);
      },
      // A rotation's own entries hold the gate themselves (#gate): they pass it, and are not retried through it.
      { ...(received.length > 0 ? { received } : {}), ...(idempotency !== undefined ? { idempotency } : {}), ...(this.#bypass ? { ungated: true } : {}) },
    );
    for (const l of this.#appendListeners) l(r.treeSize);
    return { index: r.index, leafHash: formatBase64(r.leafHash), treeSize: r.treeSize, entry: draft.signed()! };
  }

  /**
   * Appends several entries written by `officer` as one unit (an import): every
   * draft is checked first (any failure → nothing is appended), then they are
   * signed with consecutive indexes and committed in ONE store transaction —
   * all durable, or none (store writer.ts appendAll).
   * @throws as {@link submit}, for the first draft that fails its check.
   */
  async submitAll(officer: string, drafts: readonly Draft[]): Promise<Submitted[]> {
    if (this.#halted !== undefined) fail('CHANNEL_FROZEN', this.#halted);
    const prepared = drafts.map((d) => this.#draft(officer, d, {}));
    const idempotency = takeIdempotencyKey(officer, (a) => a.map((x, k) => ({ index: x.index, leafHash: formatBase64(x.leafHash), treeSize: x.treeSize, entry: prepared[k]!.signed()! })));
    const appended = await this.#writer.appendAll(
      prepared.map((p) => (index: number, time: Date) => p.prepare(index, time)),
      idempotency !== undefined ? { idempotency } : {},
    );
    const last = appended[appended.length - 1];
    if (last !== undefined) for (const l of this.#appendListeners) l(last.treeSize);
    return appended.map((a, k) => ({ index: a.index, leafHash: formatBase64(a.leafHash), treeSize: a.treeSize, entry: prepared[k]!.signed()! }));
  }

  /** Checks a draft (body, recipients) and returns how to sign it at an index and time. */
  #draft(officer: string, d: Draft, o: { readonly anyRecipients?: boolean }): { prepare(index: number, time: Date): Prepared | Promise<Prepared>; signed(): SignedEntry | undefined } {
    // The one registry (core entry/bodies.ts) that also checks every body we receive.
    const body = checkBody(d.type, d.body) as unknown as JsonValue;
    // Issue 13: a report's ATLAS technique ids must be techniques of the ATLAS release this build ships (ATLAS_TECHNIQUE_UNKNOWN).
    if (d.type === 'incident.report') checkAtlasTechniques((body as unknown as IncidentReport).techniques ?? []);
    // Recipients: parties of the version governing our next position (not a later version adopted but not yet activated by our log).
    const version = this.versionAtNext;
    const to = [...new Set(d.to ?? this.counterparts)].sort();
    if (o.anyRecipients === true && d.marking !== 'TLP:CLEAR') fail('ENTRY_INVALID', 'only a TLP:CLEAR entry may address parties beyond the accord in force');
    for (const p of to) if ((o.anyRecipients !== true && !version.party(p)) || p === this.party) fail('ENTRY_INVALID', `${p} is not another party of the accord version ${version.version} that governs this log's next entry`);
    const bodyField =
      d.marking === 'TLP:CLEAR'
        ? { clear: body }
        : {
            sealed: sealBody({
              accordId: this.accord.id,
              from: this.party,
              recipients: [...to, this.party].map((p) => ({ party: p, publicKey: version.party(p)!.hpkeKey })),
              body,
            }),
          };
    const refs = d.refs ?? [];
    const meta: EntryMeta = {
      type: d.type,
      from: this.party,
      officer,
      to,
      time: '',
      precedence: d.precedence,
      marking: d.marking,
      refs,
      ...(d.type === 'incident.report' ? { incident: (body as unknown as IncidentReport).incident } : {}),
    };
    let signed: SignedEntry | undefined;
    return {
      prepare: (index, time) => {
        const env: Envelope = {
          v: 1,
          accord: this.accord.id,
          from: { party: this.party, officer },
          to,
          seq: index,
          time: time.toISOString(),
          type: d.type,
          precedence: d.precedence,
          marking: d.marking,
          refs,
          body: bodyField,
        };
        const m = { ...meta, time: env.time };
        if (this.#signPool === undefined) {
          const e = signEntry(env, this.#sign);
          signed = e.entry;
          return { bytes: e.bytes, meta: m };
        }
        // Signed on the pool's threads with the key in force now (a rotation swaps it between batches, never within a prepare).
        const pending = entrySigning(env);
        return this.#signPool.sign(this.#signSeed, pending.message).then((sig) => {
          const e = pending.finish(sig);
          signed = e.entry;
          return { bytes: e.bytes, meta: m };
        });
      },
      signed: () => signed,
    };
  }

  /** A hotline message to `to` (default: every other party). */
  sendMessage(officer: string, m: { to?: readonly string[]; precedence: Precedence; marking: Marking; text: string; lang?: string }): Promise<Submitted> {
    return this.submit(officer, {
      type: 'hotline.message',
      ...(m.to ? { to: m.to } : {}),
      precedence: m.precedence,
      marking: m.marking,
      body: { text: m.text, ...(m.lang ? { lang: m.lang } : {}) },
    });
  }

  /**
   * An incident report. Precedence defaults to the taxonomy's for the
   * severity; a red line of the accord (category at or above a severity)
   * forces FLASH and addresses every party.
   */
  sendReport(officer: string, r: { to?: readonly string[]; precedence?: Precedence; marking: Marking; report: IncidentReport; refs?: readonly EntryRef[] }): Promise<Submitted> {
    const red = this.redLine(r.report.category, r.report.severity);
    const byTaxonomy = severityPrecedence(r.report.severity);
    const asked = r.precedence ?? byTaxonomy;
    return this.submit(officer, {
      type: 'incident.report',
      ...(red ? {} : r.to ? { to: r.to } : {}),
      precedence: red ? 'FLASH' : asked,
      marking: r.marking,
      ...(r.refs ? { refs: r.refs } : {}),
      body: r.report,
    });
  }

  /** True when an incident in `category` at `severity` crosses one of the accord's red lines. */
  redLine(category: string, severity: number): boolean {
    return this.accord.accord.redLines.some((l) => l.category === category && severity >= l.minSeverity);
  }

  /**
   * An officer's acknowledgement of an entry received from another party:
   * one per entry. The "already acknowledged?" check and the durable write
   * are serialized per entry, so two racing requests yield one ack and one
   * `ALREADY_ACKNOWLEDGED`; acknowledgements of different entries go
   * together (one batch, one commit).
   * @throws ArgumentError `TREE_ARGUMENT_INVALID` when no such entry was received;
   *   `NOT_ACKNOWLEDGEABLE` for a receipt, heartbeat or ack (machine traffic and
   *   answers are not acknowledged); `ENTRY_WITHDRAWN` when its sender withdrew it
   *   (retractions.ts: no ack is due); `ALREADY_ACKNOWLEDGED` when our log holds an ack of it.
   */
  acknowledge(officer: string, party: string, index: number, reply?: { text: string; lang?: string }): Promise<Submitted> {
    const key = `${party}/${index}`;
    const before = this.#acking.get(key) ?? Promise.resolve();
    const run = before.then(async () => {
      const rec = await this.#store.received(party, index);
      if (!rec) fail('TREE_ARGUMENT_INVALID', `no entry ${party}/${index} has been received`);
      if (unacknowledgeable(rec.meta.type)) fail('NOT_ACKNOWLEDGEABLE', `${party}/${index} is a ${rec.meta.type}: acknowledge the message or report it refers to`);
      const withdrawn = await retractionOf(this, party, index);
      if (withdrawn) {
        const by = `${withdrawn.by.party}/${withdrawn.by.index}`;
        const r = withdrawn.replacement;
        fail('ENTRY_WITHDRAWN', r ? `${party}/${index} was superseded by ${r.party}/${r.index} (retraction ${by}): acknowledge ${r.party}/${r.index} instead` : `${party}/${index} was retracted by its sender (retraction ${by}): no acknowledgement is due`);
      }
      const held = (await this.#store.referencing(party, index)).find((e) => e.meta.type === 'ack');
      if (held) fail('ALREADY_ACKNOWLEDGED', `${party}/${index} was acknowledged by ${held.meta.officer} (entry ${this.party}/${held.index}, ${held.meta.time})`);
      return this.submit(officer, {
        type: 'ack',
        to: [party],
        precedence: rec.meta.precedence as Precedence,
        marking: rec.meta.marking as Marking,
        refs: [{ party, index, hash: formatBase64(rec.leafHash) }],
        body: reply ? { reply: reply.text, ...(reply.lang ? { lang: reply.lang } : {}) } : {},
      });
    });
    const tail = run.catch(() => undefined);
    this.#acking.set(key, tail);
    void tail.then(() => {
      if (this.#acking.get(key) === tail) this.#acking.delete(key);
    });
    return run;
  }

  /** A heartbeat to every other party, carrying the current log size. */
  heartbeat(): Promise<Submitted> {
    return this.submit(MACHINE, { type: 'heartbeat', precedence: 'ROUTINE', marking: 'TLP:CLEAR', body: { treeSize: this.treeSize } });
  }

  /**
   * Verifies and stores entries received from other parties (entry bytes, as
   * the senders' logs hold them), with machine receipts for the new ones in
   * the same transactions (one commit: an entry is never held without its
   * receipt, nor receipted without being held): one receipt per sender and
   * run of up to {@link RECEIPT_REFS} entries, referencing each (signing one
   * receipt per entry would make the receiver's signing key, not
   * verification, the bottleneck of ingest). Entries already held are
   * skipped — but one held without our receipt (stored by an older version
   * between its two commits) is receipted now, once even under concurrent
   * ingests. A party we hold a fork proof against
   * (federation/forks.ts) is quarantined: its new entries are refused.
   * Signatures are checked on the
   * {@link VerifyPool}'s worker threads when the node has one.
   * @returns counts, and the receipts written.
   * A validly signed entry whose BODY fails its type's check does not fail
   * the batch: it is stored as evidence and answered with a signed
   * rejection instead of a receipt (received.ts).
   * @throws the first invalid entry's ParseError / VerificationError: nothing
   *   of a batch with an invalid entry is stored; VerificationError
   *   `ENTRY_INVALID` for a new entry of a quarantined (forked) log.
   *   VerificationError `PARTY_DEPARTED` for an entry of a party the accord
   *   no longer names, at or beyond the end of its log (epochs.ts DepartedLog).
   */
  async ingest(entries: readonly Uint8Array[]): Promise<{ accepted: number; duplicates: number; receipts: Submitted[] }> {
    // Governance (issue 11): an activation entry among them may change the keys they are judged by.
    if (this.#beforeIngest !== undefined) await this.#beforeIngest(entries);
    const now = this.#now().toISOString();
    // The pool's workers follow the chain too (VerifyPool.adopt, at open and on adoptChain).
    const verdicts = this.#pool && entries.length >= 16 ? await this.#pool.verify(entries) : undefined;
    const records: ReceivedEntry[] = entries.map((bytes, i) => {
      const verdict = verdicts?.[i];
      if (verdict) {
        if (!verdict.ok) throwVerdict(verdict);
        return this.#received(verdict.entry ?? parseEntry(bytes), verdict.leafHash, bytes, now);
      }
      const v = verifyEntryAt(this, bytes);
      return this.#received(v.entry, v.leafHash, bytes, now);
    });
    // Issue 12: evaluation entries' references, judged against what we hold and the batch itself (received.ts).
    await judgeReferences(this.#store, this.party, records);
    // Issue 13: retractions, judged by the rules submissions follow (retractions.ts).
    await judgeRetractions(this, records);
    return this.#ingestRecords(records, now);
  }

  /**
   * {@link ingest} for the entries of a bundle core's `openBundle` verified
   * (the sender's signature on each, channel, addressing, seq = index,
   * inclusion in the checkpoint): the same checks of addressing and sealed
   * bodies, the same storing and receipts, without verifying each
   * signature a second time.
   */
  async ingestBundle(b: VerifiedBundle): Promise<{ accepted: number; duplicates: number; receipts: Submitted[] }> {
    const now = this.#now().toISOString();
    const records = b.entries.map((e) => this.#received(e.entry, e.leafHash, e.bytes, now));
    await judgeReferences(this.#store, this.party, records);
    // Issue 13: retractions, judged by the rules submissions follow (retractions.ts).
    await judgeRetractions(this, records);
    return this.#ingestRecords(records, now);
  }

  /** The record of a verified entry received now; checks it is another party's, addressed to us, and (sealed) opens for us. */
  #received(e: SignedEntry, leaf: Uint8Array, bytes: Uint8Array, now: string): ReceivedEntry {
    if (e.from.party === this.party) fail('ENTRY_INVALID', 'an entry from this party cannot be received');
    if (!e.to.includes(this.party)) fail('ENTRY_INVALID', `entry ${e.from.party}/${e.seq} is not addressed to ${this.party}`);
    // A party that left the channel writes no more: its entries past the end of its log are refused (issue 11).
    refuseDeparted(this, e);
    // A sealed body must open for us and match its commitment: checked now,
    // while the sender can still be asked again, not when an officer reads it.
    const body = 'clear' in e.body ? e.body.clear : this.#open(e).body;
    // Checked as strictly as what we send; a bad body is stored as evidence and answered with a signed rejection (received.ts).
    const rejection = judgeReceivedBody(e, body);
    return withOpened(withRejection({ party: e.from.party, index: e.seq, leafHash: leaf, bytes, meta: metaOf(e, rejection ? null : body), receivedAt: now }, rejection), e, body);
  }

  async #ingestRecords(records: readonly ReceivedEntry[], now: string): Promise<{ accepted: number; duplicates: number; receipts: Submitted[] }> {
    // Serialized per entry from the "already held?" check until what is stored (and receipted) is
    // durable, so a concurrent push and pull of one entry store and receipt it once. An ingest waits
    // only for earlier ingests holding one of its entries (registered synchronously below, in call
    // order: no two wait for each other).
    const keys = [...new Set(records.map((r) => `${r.party}/${r.index}`))];
    const before = keys.flatMap((k) => this.#ingesting.get(k) ?? []);
    const stored = Promise.all(before).then(async () => {
      // Receipt each entry once: new entries, and entries held without our receipt (a crash
      // between storing and receipting, before both went into one transaction).
      const fresh: ReceivedEntry[] = [];
      const unanswered: ReceivedEntry[] = [];
      /** Fresh entries our log already receipted (a recovered tail, issue 9): stored, not receipted again. */
      const answered = new Set<ReceivedEntry>();
      const quarantined = new Map<string, boolean>();
      const seen = new Map<string, Uint8Array>();
      // As the store's ingest would: the same (party, index) with another hash is evidence of a fork, not a duplicate.
      const conflict = (r: ReceivedEntry) => fail('STORE_CONFLICT', `entry ${r.index} of ${r.party} is already held with a different hash`);
      const distinct: ReceivedEntry[] = [];
      for (const r of records) {
        const key = `${r.party}/${r.index}`;
        const first = seen.get(key);
        if (first !== undefined) {
          if (!bytesEqual(first, r.leafHash)) conflict(r);
          continue;
        }
        seen.set(key, r.leafHash);
        distinct.push(r);
      }
      // Which of them are held already: one read for the whole batch, not one per entry.
      const holding = await this.#store.receivedMany(distinct);
      for (const [i, r] of distinct.entries()) {
        const held = holding[i];
        if (held && !bytesEqual(held.leafHash, r.leafHash)) conflict(r);
        if (!held) {
          if (!quarantined.has(r.party)) quarantined.set(r.party, await isQuarantined(this.#store, r.party));
          if (quarantined.get(r.party)) fail('ENTRY_INVALID', `${r.party}'s log is forked (this node holds a fork proof): its new entries are refused; entries already held stay`);
          fresh.push(r);
          if (this.#adopted && (await this.#store.referencing(r.party, r.index)).some((e) => e.meta.type === 'receipt')) answered.add(r);
        } else if (held.meta.type !== 'receipt' && !(await this.#store.referencing(r.party, r.index)).some((e) => e.meta.type === 'receipt')) {
          unanswered.push(withRejection(held, rejectionOf(r)));
        }
      }
      // New entries go into the same transactions as their receipts; if no receipt is due, alone.
      const receipts = fresh.some((r) => needsAnswer(r) && !answered.has(r)) || unanswered.length > 0 ? await this.#receipts(fresh, unanswered, now, answered) : [];
      if (receipts.length === 0 && fresh.length > 0) await this.#store.ingest(fresh);
      // ---- durable: the new entries, and the receipts for them.
      return { accepted: fresh.length, receipts };
    });
    const tail = stored.catch(() => undefined);
    for (const k of keys) this.#ingesting.set(k, tail);
    void tail.then(() => {
      for (const k of keys) if (this.#ingesting.get(k) === tail) this.#ingesting.delete(k);
    });
    const { accepted, receipts } = await stored;
    for (const l of this.#ingestListeners) l(records);
    return { accepted, duplicates: records.length - accepted, receipts };
  }

  /**
   * Receipts for received entries (not for receipts: that would never end),
   * one per sender and run of {@link RECEIPT_REFS}; an entry whose body
   * failed its check (a receipt's too) gets a rejection of its own instead
   * (received.ts). Each receipt carries the
   * new entries it references to the writer, which stores them in the
   * receipt's own transaction (LogWriter.append `received`): an entry and
   * its receipt are durable together or not at all. New entries that get no
   * receipt (receipts themselves) ride with the first receipt.
   * @param fresh entries not yet stored.
   * @param unanswered entries already stored without our receipt.
   * @returns the receipts written (none when nothing needs one; then nothing is stored here).
   */
  #receipts(fresh: readonly ReceivedEntry[], unanswered: readonly ReceivedEntry[], receivedAt: string, answered: ReadonlySet<ReceivedEntry> = new Set()): Promise<Submitted[]> {
    const isNew = new Set(fresh);
    const bySender = new Map<string, ReceivedEntry[]>();
    // Entries already answered before a recovery (rollback.ts) ride along without a second receipt.
    let riders = fresh.filter((r) => !needsAnswer(r) || answered.has(r));
    const writes: Promise<Submitted>[] = [];
    // Issue 11: a sender that is not a party of the version governing our next entry (a party added by a
    // version our log has not activated yet) gets no receipt now — it would be invalid at its position;
    // its entries are stored (riding with another write, or alone) and answered once we have activated.
    const version = this.versionAtNext;
    for (const r of [...fresh, ...unanswered]) {
      if (answered.has(r)) continue;
      if (!version.party(r.party)) {
        if (isNew.has(r)) riders.push(r);
        continue;
      }
      const rejection = rejectionOf(r);
      if (rejection) {
        // A rejected entry gets a receipt of its own that says so (received.ts).
        writes.push(this.#submit(MACHINE, rejectionDraft(r, rejection, receivedAt), [...riders, ...(isNew.has(r) ? [r] : [])]));
        riders = [];
      } else if (needsAnswer(r)) {
        // Appended in place: copying the sender's list for each entry was quadratic in the batch.
        const list = bySender.get(r.party);
        if (list) list.push(r);
        else bySender.set(r.party, [r]);
      }
    }
    for (const [party, list] of bySender) {
      list.sort((a, b) => a.index - b.index);
      for (let i = 0; i < list.length; i += RECEIPT_REFS) {
        const run = list.slice(i, i + RECEIPT_REFS);
        const precedence = PRECEDENCES.find((p) => run.some((r) => r.meta.precedence === p)) ?? 'ROUTINE';
        const received = [...riders, ...run.filter((r) => isNew.has(r))];
        riders = [];
        writes.push(
          this.#submit(
            MACHINE,
            {
              type: 'receipt',
              to: [party],
              precedence,
              marking: 'TLP:CLEAR',
              refs: run.map((r) => ({ party, index: r.index, hash: formatBase64(r.leafHash) })),
              body: { receivedAt },
            },
            received,
          ),
        );
      }
    }
    if (writes.length === 0) return Promise.resolve([]);
    const left = riders;
    // Every write settled before any failure is reported: the ingest's per-entry hold (#ingestRecords) ends when this
    // does, and a sibling receipt run still in flight (requeued behind a failed batch) must not outlive it — a push of
    // one of its entries would find it not held and receipt it a second time.
    return Promise.allSettled(writes).then(async (settled) => {
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const done = settled.map((r) => (r as PromiseFulfilledResult<Submitted>).value);
      if (left.length > 0) await this.#store.ingest(left);
      return done;
    });
  }

  /**
   * Reads an entry of any party held here (own log or received), opening a
   * sealed body when this party is a recipient and the viewer's role may read it.
   */
  async read(party: string, index: number, role: Role): Promise<EntryView | undefined> {
    const rec = party === this.party ? await this.#store.entry(index) : await this.#store.received(party, index);
    if (!rec) return undefined;
    return this.#view(party, rec, role);
  }

  async #view(party: string, rec: OwnEntry | ReceivedEntry, role: Role): Promise<EntryView> {
    const entry = parseEntry(rec.bytes);
    // Issue 11: entries of a recovered party between its last witnessed checkpoint and the recovery are suspect.
    const suspect = this.isSuspect(party, rec.index);
    // Issue 13: an entry its sender withdrew is listed with the mark (retractions.ts).
    const withdrawn = await retractionOf(this, party, rec.index);
    const base = {
      party,
      index: rec.index,
      leafHash: formatBase64(rec.leafHash),
      entry,
      ...(suspect ? { suspect: true as const } : {}),
      ...(withdrawn ? { retracted: retractedMark(withdrawn, READS_SEALED.includes(role)) } : {}),
    };
    const state = party === this.party ? undefined : await this.state(party, rec.index);
    const withState = state ? { ...base, state } : base;
    if ('clear' in entry.body) return { ...withState, body: entry.body.clear };
    if (!READS_SEALED.includes(role)) return { ...withState, sealed: 'not-entitled' };
    if (!entry.body.sealed.recipients.some((r) => r.party === this.party)) return { ...withState, sealed: 'not-a-recipient' };
    return { ...withState, body: this.#open(entry).body };
  }

  /**
   * The body of `entry` sealed to this party, opened (any of our HPKE keys).
   * @throws HPKE_OPEN_FAILED when it is not sealed to us or does not open.
   */
  openSealed(entry: SignedEntry): JsonValue {
    return this.#open(entry).body;
  }

  #open(entry: SignedEntry): { body: JsonValue } {
    if (!('sealed' in entry.body)) return { body: entry.body.clear };
    const sealed = entry.body.sealed;
    // After an HPKE rotation (issue 11) a body may be sealed to an earlier key of ours (retired), or — by a
    // sender that activated the rotation before we did — to our pending next key. A sealed copy does not name
    // its key: the current key is tried first, then the others (a wrong key fails the AEAD tag, cheaply).
    const keys = [this.#keys.hpke, ...(this.#keys.next?.hpke ? [this.#keys.next.hpke] : []), ...(this.#keys.retiredHpke ?? [])];
    let first: unknown;
    for (const k of keys) {
      try {
        return openBody(sealed, { accordId: this.accord.id, from: entry.from.party, party: this.party, privateKey: k.privateKey });
      } catch (e) {
        first ??= e;
        if (!(e instanceof ParleyError) || e.code !== 'HPKE_OPEN_FAILED') throw e;
      }
    }
    throw first;
  }

  /** Our receipt and acknowledgement of a received entry, from our own log. */
  async state(party: string, index: number): Promise<EntryState> {
    const refs = await this.#store.referencing(party, index);
    const receipt = refs.find((e) => e.meta.type === 'receipt');
    const ack = refs.find((e) => e.meta.type === 'ack');
    return {
      ...(receipt ? { receipt: { index: receipt.index, time: receipt.meta.time } } : {}),
      ...(ack ? { ack: { index: ack.index, time: ack.meta.time, officer: ack.meta.officer } } : {}),
    };
  }

  /** Entries received from other parties, newest first, as `role` may see them. */
  async inbox(q: ListQuery, role: Role): Promise<EntryView[]> {
    const rows = await this.#store.inbox(q);
    return Promise.all(rows.map((r) => this.#view(r.party, r, role)));
  }

  /** Entries of our own log, newest first, as `role` may see them. */
  async outbox(q: ListQuery, role: Role): Promise<EntryView[]> {
    const rows = await this.#store.outbox(q);
    return Promise.all(rows.map((r) => this.#view(this.party, r, role)));
  }

  // -------------------------------------------------------------------------
  // The public log (C2SP tlog-checkpoint, tlog-tiles; RFC 9162 proofs).

  /**
   * Signs an offline bundle of this party's own log (core `makeBundle`) with
   * the log key, which stays inside the node. See `exportBundle` (bundle.ts).
   * @throws ParseError `BUNDLE_MALFORMED` for a bundle from another party or accord, or bad members.
   */
  signBundle(input: BundleInput): Uint8Array {
    if (input.from !== this.party || input.accordId !== this.accord.id) fail('BUNDLE_MALFORMED', 'a node signs bundles of its own log on its own accord only');
    return makeBundle(input, this.#sign);
  }

  // -------------------------------------------------------------------------
  // Federation (federation/): request signatures with the log key, which stays inside the node.

  /**
   * Signs a node-to-node request to party `to` (core `signRequest`): the
   * `Parley-Signature` header value, made with this party's log key.
   * @param r recipient, method, request target (path and query as sent) and the exact body.
   * @throws ParseError `REQUEST_SIGNATURE_MALFORMED` for a method or target out of grammar.
   */
  signRequest(r: { readonly to: string; readonly method: string; readonly path: string; readonly body?: Uint8Array }): string {
    return signRequest({ accordId: this.accord.id, from: this.party, to: r.to, method: r.method, path: r.path, body: r.body ?? new Uint8Array(), signer: this.#sign, now: this.#now().getTime() / 1000 });
  }

  /**
   * Authenticates a request from another party (core `verifyRequest`, ±60 s
   * skew on this node's clock, nonces remembered by this node).
   * @returns the authenticated sender.
   * @throws VerificationError `REQUEST_UNAUTHENTICATED`; ParseError `REQUEST_SIGNATURE_MALFORMED`.
   */
  authenticateRequest(r: { readonly header: string | undefined; readonly method: string; readonly path: string; readonly body: Uint8Array }): AuthenticatedRequest {
    return verifyRequest({ ...r, accord: this.accord, to: this.party, now: this.#now().getTime() / 1000, seen: this.#nonces });
  }

  /**
   * The headers of a signed request with a body (core `signRequestWithDigest`):
   * `Parley-Signature` and `Content-Digest` (RFC 9530), so the recipient can
   * check the signature before it reads the body (issue 9).
   */
  signRequestHeaders(r: { readonly to: string; readonly method: string; readonly path: string; readonly body: Uint8Array }): Record<string, string> {
    const h = signRequestWithDigest({ accordId: this.accord.id, from: this.party, to: r.to, method: r.method, path: r.path, body: r.body, signer: this.#sign, now: this.#now().getTime() / 1000 });
    return { [REQUEST_SIGNATURE_HEADER]: h.signature, [CONTENT_DIGEST_HEADER]: h.contentDigest };
  }

  /**
   * Authenticates a request from its head, before its body is read (core
   * `verifyRequestHead`: the signature over the `Content-Digest` header's
   * digest; a nonce this node already holds is refused; nothing is recorded).
   * @throws VerificationError `REQUEST_UNAUTHENTICATED`; ParseError `REQUEST_SIGNATURE_MALFORMED`, `CONTENT_DIGEST_MALFORMED`.
   */
  authenticateRequestHead(r: { readonly header: string | undefined; readonly contentDigest: string; readonly method: string; readonly path: string }): VerifiedRequestHead {
    return verifyRequestHead({ ...r, accord: this.accord, to: this.party, now: this.#now().getTime() / 1000, seen: this.#nonces });
  }

  /**
   * Completes {@link authenticateRequestHead} once the body is in (core
   * `verifyRequestBody`), resolving once the nonce is durable.
   * @throws VerificationError `CONTENT_DIGEST_MISMATCH` (nonce not recorded), `REQUEST_UNAUTHENTICATED` (replay).
   */
  async authenticateRequestBodyDurably(head: VerifiedRequestHead, body: Uint8Array): Promise<AuthenticatedRequest> {
    const a = verifyRequestBody({ head, body, now: this.#now().getTime() / 1000, seen: this.#nonces });
    await this.#nonces.durable(this.#nonces.takeLast());
    return a;
  }

  /**
   * {@link authenticateRequestBodyDurably} without the wait: the request is
   * authenticated now (the nonce is recorded, its write issued), and
   * `durable` resolves once the nonce is durable — or rejects, as that
   * method would throw (a replay another process recorded; a write that
   * failed). Only for a route whose every effect is idempotent (a push: its
   * entries are stored once by (party, index, hash), its checkpoint
   * cosigned once): its work may start meanwhile, its writes reach the
   * store after the nonce's (the store applies writes in the order they are
   * issued), and it answers nothing before `durable` resolved.
   * @throws VerificationError `CONTENT_DIGEST_MISMATCH`, `REQUEST_UNAUTHENTICATED` (a replay this node holds).
   */
  authenticateRequestBodyThen(head: VerifiedRequestHead, body: Uint8Array): { readonly request: AuthenticatedRequest; readonly durable: Promise<void> } {
    const request = verifyRequestBody({ head, body, now: this.#now().getTime() / 1000, seen: this.#nonces });
    const durable = this.#nonces.durable(this.#nonces.takeLast());
    // Awaited by the caller; never an unhandled rejection meanwhile.
    durable.catch(() => undefined);
    return { request, durable };
  }

  /** {@link authenticateRequest}, resolving once the request's nonce is durable (a replay after a restart is refused). */
  async authenticateRequestDurably(r: { readonly header: string | undefined; readonly method: string; readonly path: string; readonly body: Uint8Array }): Promise<AuthenticatedRequest> {
    const a = this.authenticateRequest(r);
    await this.#nonces.durable(this.#nonces.takeLast());
    return a;
  }

  /**
   * Calls `listener` with the new tree size after each durable append to our
   * log (entries are then readable). Listeners must not throw or block.
   * @returns a function that removes the listener.
   */
  onAppend(listener: (treeSize: number) => void): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  /**
   * Calls `listener` with the entries of each ingest once they are durably
   * held (new ones and ones already held alike), with their receipts.
   * Listeners must not throw or block.
   * @returns a function that removes the listener.
   */
  onIngest(listener: (entries: readonly ReceivedEntry[]) => void): () => void {
    this.#ingestListeners.add(listener);
    return () => this.#ingestListeners.delete(listener);
  }

  /**
   * The latest checkpoint this node acknowledged: the writer's, of size
   * {@link treeSize}. Not the store's: with a writer thread a batch is
   * visible there a moment before its append resolves here, and a
   * checkpoint beyond `treeSize` would make the proofs asked for it fail
   * (TREE_ARGUMENT_INVALID) — a push would fail and wait out a backoff.
   */
  latestCheckpoint(): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#writer.latestCheckpoint());
  }

  /** The bytes of own entry `index` (the leaf input). */
  async entryBytes(index: number): Promise<Uint8Array | undefined> {
    return (await this.#store.entry(index))?.bytes;
  }

  /**
   * Inclusion proof of own entry `index` in the tree of `treeSize` (default: current).
   * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless index < treeSize ≤ current size.
   */
  async inclusionProof(index: number, treeSize = this.treeSize): Promise<Uint8Array[]> {
    if (treeSize > this.treeSize) fail('TREE_ARGUMENT_INVALID', `tree size ${treeSize} is beyond the log (${this.treeSize})`);
    const indexes = inclusionProofIndexes(treeSize, index);
    return inclusionProofFromHashes(treeSize, index, await this.#store.readHashes(indexes));
  }

  /**
   * Consistency proof between two sizes of our log.
   * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 1 ≤ old ≤ new ≤ current size.
   */
  async consistencyProof(oldSize: number, newSize = this.treeSize): Promise<Uint8Array[]> {
    if (newSize > this.treeSize) fail('TREE_ARGUMENT_INVALID', `tree size ${newSize} is beyond the log (${this.treeSize})`);
    const indexes = consistencyProofIndexes(oldSize, newSize);
    return consistencyProofFromHashes(oldSize, newSize, await this.#store.readHashes(indexes));
  }

  /**
   * C2SP tlog-tiles: the bytes of hash tile (level, index, width), which must
   * exist in the current tree (full tiles, or the current partial tile).
   */
  async tile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const size = this.treeSize;
    const span = 256 ** level;
    const fullTiles = Math.floor(size / (span * 256));
    const partial = Math.floor(size / span) % 256;
    if (!(index < fullTiles && width === 256) && !(index === fullTiles && width > 0 && width <= partial)) return undefined;
    const indexes: number[] = [];
    for (let i = 0; i < width; i++) indexes.push(storedHashIndex(8 * level, index * 256 + i));
    const hashes = await this.#store.readHashes(indexes);
    const out = new Uint8Array(width * 32);
    hashes.forEach((h, i) => out.set(h, i * 32));
    return out;
  }

  /** C2SP tlog-tiles entry bundle `index` of `width` entries. */
  async entryBundle(index: number, width: number): Promise<OwnEntry[] | undefined> {
    const first = index * 256;
    if (width < 1 || width > 256 || first + width > this.treeSize) return undefined;
    return this.#store.entries(first, first + width);
  }

  // -------------------------------------------------------------------------
  // Continuity (issue 9, rollback.ts): the runtime's guard gates every signature of our log.

  /**
   * Puts every later write of our log (entries, receipts, heartbeats, and
   * the checkpoints they make) behind `guard`'s gate; undefined removes it.
   * A node opened without a runtime has no guard: it trusts its store.
   */
  setContinuity(guard: ContinuityGuard | undefined): void {
    this.#continuity = guard;
    this.#writer.setGate(this.#gate());
  }

  /** The guard set by the runtime, if any (its status is shown by /healthz and GET /v1/continuity). */
  get continuity(): ContinuityGuard | undefined {
    return this.#continuity;
  }

  /**
   * Adopts entries of our own log recovered from peers' mirrors at its end,
   * as they were signed (nothing is signed again but, without `checkpoint`,
   * one new checkpoint for them): each must verify as ours (accord, our log
   * key's signature) with seq = the index it takes.
   * @param checkpoint our signed checkpoint for the size after them (the
   *   cosigned one); its root must equal the recomputed one.
   * @returns the new tree size.
   * @throws VerificationError `ENTRY_INVALID` for an entry that is not ours
   *   or not at its index; ParseError from the entries; StoreError
   *   `STORE_CONFLICT` when the root differs — nothing is stored then.
   */
  async adoptRecovered(entries: readonly Uint8Array[], checkpoint?: Uint8Array): Promise<number> {
    const first = this.treeSize;
    const prepared = entries.map((bytes, k) => {
      const { entry } = verifyEntryAt(this, bytes);
      if (entry.from.party !== this.party) fail('ENTRY_INVALID', `recovered entry ${first + k} is ${entry.from.party}'s, not ${this.party}'s`);
      if (entry.seq !== first + k) fail('ENTRY_INVALID', `recovered entry ${first + k} has seq ${entry.seq}`);
      let body: JsonValue = null;
      try {
        body = this.#open(entry).body;
      } catch {
        // Sealed to us as well; should it not open, only the incident index misses it.
      }
      return { bytes, meta: metaOf(entry, body) };
    });
    const size = await this.#writer.adopt({ entries: prepared, ...(checkpoint !== undefined ? { checkpoint } : {}) });
    this.#adopted = true;
    for (const l of this.#appendListeners) l(size);
    return size;
  }

  // -------------------------------------------------------------------------
  // Governance (issue 11, governance/): accord signatures, activation entries, key rotation.

  /** Set by the governance module (governance/governance.ts): proposals, approvals and activations of this node. */
  governance: Governance | undefined;
  #beforeIngest: ((entries: readonly Uint8Array[]) => Promise<void>) | undefined;

  /** Runs `hook` on the bytes of every ingest before they are verified (governance: a peer's activation entry). */
  setBeforeIngest(hook: ((entries: readonly Uint8Array[]) => Promise<void>) | undefined): void {
    this.#beforeIngest = hook;
  }

  /** The public halves of the pending next keys (NodeKeys.next), as an accord names them. */
  get nextKeys(): { readonly logKey?: string; readonly hpkeKey?: string } {
    const n = this.#keys.next;
    return {
      ...(n?.log ? { logKey: formatVerifierKey(verifierKeyOf(n.log)) } : {}),
      ...(n?.hpke ? { hpkeKey: formatBase64(n.hpke.publicKey) } : {}),
    };
  }

  /** The log key's verifier key as an accord names it. */
  get logKey(): string {
    return formatVerifierKey(verifierKeyOf(this.#keys.log));
  }

  /**
   * Signs `message` (an accord signing message) with the current log key, or
   * with the pending next log key; undefined when there is none.
   */
  signWithLogKey(message: Uint8Array, which: 'current' | 'next'): Uint8Array | undefined {
    const key = which === 'current' ? this.#keys.log : this.#keys.next?.log;
    return key === undefined ? undefined : getCrypto().ed25519Signer(key.seed)(message);
  }

  /** True when `party`'s entry `index` is suspect: after its last witnessed checkpoint under a key later recovered (node.epochs). */
  isSuspect(party: string, index: number): boolean {
    return (this as unknown as { epochs?: { suspect(party: string, index: number): boolean } }).epochs?.suspect(party, index) === true;
  }

  /** From now on every write is refused with `CHANNEL_FROZEN` (a frozen version is in force, or this party was removed). */
  halt(reason: string): void {
    this.#halted = reason;
  }

  /** Why this node writes no more, if it does not. */
  get halted(): string | undefined {
    return this.#halted;
  }

  /** The writer's gate: a follower refuses; a rotation's hold (but for its own appends), then the continuity guard's. */
  #gate(): () => Promise<void> | undefined {
    return () => {
      if (this.#follower) return Promise.reject(new ParleyError('SEQUENCER_UNAVAILABLE', 'this process is not the sequencer of its party: it signs nothing (sequencer.ts)'));
      // Halted while the write waited (its check in #submit came before): nothing follows the last entry.
      if (this.#halted !== undefined && !this.#bypass) return Promise.reject(new ParleyError('CHANNEL_FROZEN', this.#halted));
      return this.#rotating !== undefined && !this.#bypass ? this.#rotating : this.#continuity?.gate();
    };
  }

  // -------------------------------------------------------------------------
  // Several processes for one party (issue 14, sequencer.ts): only the sequencer signs.

  /** Set while another process of the party is its sequencer: every write is refused. */
  #follower = false;

  /**
   * Makes this node a follower (`false`: it signs nothing; the runtime
   * forwards writes to the sequencer) or lets it sign again (`true`, after
   * {@link resync}). A node that is never told is its party's only process.
   */
  setSequencer(on: boolean): void {
    this.#follower = !on;
    // The sequencer tells its ingest listeners itself; a follower again starts following from the store's newest row.
    if (on) this.#followed = undefined;
  }

  /** A follower's position in the store's receive order (ReceivedListing.rowid): rows above it are news. */
  #followed: number | undefined;

  /**
   * A follower: tells the ingest listeners (live events, governance, the
   * evaluation times) of the entries another process of the party stored
   * since the last call, oldest first — as if this process had ingested
   * them. The first call after becoming a follower only notes where the
   * store is. Receive order is commit order in the store (PgStore), so no row
   * is passed over.
   * @returns how many entries were announced.
   */
  async followIngest(): Promise<number> {
    if (!this.#follower) return 0;
    const top = (await this.#store.inbox({ limit: 1 }))[0]?.rowid ?? 0;
    const from = this.#followed;
    if (from === undefined || top <= from) {
      this.#followed = Math.max(top, from ?? 0);
      return 0;
    }
    const fresh: ReceivedListing[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await this.#store.inbox({ limit: FOLLOW_PAGE, ...(before !== undefined ? { before } : {}) });
      const newer = page.filter((r) => r.rowid > from && r.rowid <= top);
      fresh.push(...newer);
      if (page.length < FOLLOW_PAGE || page.at(-1)!.rowid <= from) break;
      before = page.at(-1)!.rowid;
    }
    fresh.sort((a, b) => a.rowid - b.rowid);
    this.#followed = top;
    if (fresh.length > 0) for (const l of this.#ingestListeners) l(fresh);
    return fresh.length;
  }

  /**
   * MAC of a request one process of the party hands to another (http/forward.ts),
   * HMAC-SHA-256 under a key derived from the log key every process of the
   * party holds: the sequencer believes the client address a follower names.
   * @returns base64url.
   */
  forwardMac(message: string): string {
    return forwardMacWith(this.#keys.log.seed, message);
  }

  /** The forwarding key in use now (the log key's): a follower vouches with it and checks the acknowledgement under it. */
  forwardKey(): ForwardKey {
    return forwardKeyOf(this.#keys.log.seed, false);
  }

  /**
   * The forwarding keys another process of the party may have used: the
   * current log key first, the next one of a pending rotation, and the ones
   * this process rotated away from, each only for
   * {@link RETIRED_FORWARD_KEY_MS} after the switch (`retired`), so the
   * party's processes still recognise each other while a rotation reaches
   * them one after another. Never longer: after a rotation for compromise
   * the old key's holder must not pass for one of the party's processes.
   */
  forwardKeys(): ForwardKey[] {
    const now = this.#now().getTime();
    this.#oldLogSeeds = this.#oldLogSeeds.filter((o) => now - o.at < RETIRED_FORWARD_KEY_MS && now >= o.at);
    return [
      forwardKeyOf(this.#keys.log.seed, false),
      ...(this.#keys.next?.log ? [forwardKeyOf(this.#keys.next.log.seed, false)] : []),
      ...this.#oldLogSeeds.map((o) => forwardKeyOf(o.seed, true)),
    ];
  }

  /** Log seeds this process signed with before a rotation, and when it switched (this node's clock, ms; newest first, a few). */
  #oldLogSeeds: { readonly seed: Uint8Array; readonly at: number }[] = [];

  #retireLogSeed(seed: Uint8Array): void {
    this.#oldLogSeeds = [{ seed, at: this.#now().getTime() }, ...this.#oldLogSeeds].slice(0, 4);
  }

  /** False while another process of the party is its sequencer. */
  get isSequencer(): boolean {
    return !this.#follower;
  }

  /**
   * Catches up with what another process of the party appended: the
   * writer's frontier and checkpoint are read again from the store, and the
   * append listeners (live events, federation push, the watcher) hear of the
   * new size. A follower calls it as the log grows; a new sequencer before
   * it signs anything.
   * @returns the tree size now known.
   */
  async resync(): Promise<number> {
    const before = this.#writer.size;
    const size = await this.#writer.resync();
    if (size > before) for (const l of this.#appendListeners) l(size);
    return size;
  }

  /**
   * Appends the activation entry of an accord version (GOV.md §2) — with a
   * key change when `log` / `hpke` differ from the keys in use:
   *
   * - planned rotation (`dual`): every other write is held; a heartbeat is
   *   appended whose batch ends at R, and that checkpoint (size R) is
   *   signed by the old AND the new log key; then the activation entry
   *   (index R) is signed by the new key, and so is everything after it.
   * - recovery (`dual` false): the activation entry is the first signature
   *   of the new key; nothing is signed by the old one at R.
   *
   * The old HPKE key is kept (retired) so earlier bodies still open.
   * @throws ParseError `ACCORD_MALFORMED` for a log key of another origin; whatever the write throws (nothing switched then).
   */
  async appendActivation(o: {
    readonly officer: string;
    readonly to: readonly string[];
    readonly body: unknown;
    readonly nextLog?: boolean;
    readonly nextHpke?: boolean;
    readonly dual: boolean;
    /** The version removes this party or freezes the channel: halt (with this reason) once the entry is durable, before any write held meanwhile goes on. */
    readonly halts?: string;
  }): Promise<{ index: number; bytes: Uint8Array }> {
    if ((o.nextLog === true && this.#keys.next?.log === undefined) || (o.nextHpke === true && this.#keys.next?.hpke === undefined)) fail('ACCORD_CONSENT', 'the version names a next key this node does not hold');
    const log = o.nextLog === true ? this.#keys.next?.log : undefined;
    const hpke = o.nextHpke === true ? this.#keys.next?.hpke : undefined;
    const rotate = log !== undefined && formatVerifierKey(verifierKeyOf(log)) !== this.logKey ? log : undefined;
    if (rotate && rotate.name !== this.origin) fail('ACCORD_MALFORMED', `a rotated log key must keep the origin ${this.origin}`);
    while (this.#rotating !== undefined) await this.#rotating;
    await this.#continuity?.gate();
    let release!: () => void;
    this.#rotating = new Promise<void>((r) => (release = r));
    const before = { sign: this.#sign, signSeed: this.#signSeed, signCheckpoint: this.#signCheckpoint };
    const draft: Draft = { type: 'accord.activation', to: o.to, precedence: 'ROUTINE', marking: 'TLP:CLEAR', body: o.body };
    const bypassed = <T>(f: () => Promise<T>): Promise<T> => {
      this.#bypass = true;
      try {
        return f();
      } finally {
        this.#bypass = false;
      }
    };
    try {
      let entry: Submitted;
      if (rotate === undefined) {
        entry = await bypassed(() => this.#submit(o.officer, draft, [], { anyRecipients: true }));
      } else {
        const oldSigner = newSigner(this.#keys.log);
        const newSigner_ = newSigner(rotate);
        if (o.dual) {
          let at = -1;
          this.#signCheckpoint = (cp) => signCheckpoint(cp, cp.treeSize === at ? [oldSigner, newSigner_] : [oldSigner]);
          await bypassed(() => this.#submit(MACHINE, { type: 'heartbeat', precedence: 'ROUTINE', marking: 'TLP:CLEAR', body: { treeSize: this.treeSize } }, [], { onIndex: (i) => (at = i + 1) }));
        }
        this.#sign = getCrypto().ed25519Signer(rotate.seed);
        this.#signSeed = rotate.seed;
        this.#signCheckpoint = (cp) => signCheckpoint(cp, newSigner_);
        entry = await bypassed(() => this.#submit(o.officer, draft, [], { anyRecipients: true }));
      }
      // ---- durable: the activation entry is in our log; from here on the new keys are ours.
      // The last entry of a removed party's log: writes held by the gate meanwhile are refused (#gate), not appended after it.
      if (o.halts !== undefined) this.halt(o.halts);
      const hpkeChanged = hpke !== undefined && !bytesEqual(hpke.publicKey, this.#keys.hpke.publicKey);
      if (rotate !== undefined || hpkeChanged) {
        const next = { ...(rotate === undefined && this.#keys.next?.log ? { log: this.#keys.next.log } : {}), ...(!hpkeChanged && this.#keys.next?.hpke ? { hpke: this.#keys.next.hpke } : {}) };
        if (rotate !== undefined) this.#retireLogSeed(this.#keys.log.seed);
        this.#keys = {
          log: rotate ?? this.#keys.log,
          hpke: hpkeChanged ? hpke : this.#keys.hpke,
          retiredHpke: [...(hpkeChanged ? [this.#keys.hpke] : []), ...(this.#keys.retiredHpke ?? [])],
          ...(next.log || next.hpke ? { next } : {}),
        };
      }
      const bytes = (await this.#store.entry(entry.index))!.bytes;
      return { index: entry.index, bytes };
    } catch (e) {
      this.#sign = before.sign;
      this.#signSeed = before.signSeed;
      this.#signCheckpoint = before.signCheckpoint;
      throw e;
    } finally {
      this.#rotating = undefined;
      release();
    }
  }

  /** Drains pending writes. The store is the caller's to close. */
  async close(): Promise<void> {
    await this.#writer.close();
  }
}

function forwardMacWith(seed: Uint8Array, message: string): string {
  const key = createHash('sha256').update('parley forward v1\n').update(seed).digest();
  return createHmac('sha256', key).update(message).digest('base64url');
}

/** A forwarding key of the party (http/forward.ts): HMAC-SHA-256 under a key derived from a log key. */
export interface ForwardKey {
  /** base64url MAC of `message`. */
  mac(message: string): string;
  /** A log key this process rotated away from (within {@link RETIRED_FORWARD_KEY_MS}): its vouch is not believed for the client address. */
  readonly retired: boolean;
}

function forwardKeyOf(seed: Uint8Array, retired: boolean): ForwardKey {
  return { mac: (m) => forwardMacWith(seed, m), retired };
}

/**
 * How long a process still accepts forwarding MACs under the log key it
 * rotated away from (ms, from its switch): a follower switches at its next
 * poll (every FOLLOW_MS, 200 ms, runtime.ts), so twice that and a few
 * seconds for a slow poll on a loaded machine. A request vouched for under
 * the old key after that is refused (503, retried by the client, and by then
 * the follower uses the new key); a process that does not hold the new key
 * cannot write (KEY_RETIRED) and must be restarted with it.
 */
export const RETIRED_FORWARD_KEY_MS = 5_000;

/**
 * After a rotation activated in our log, a node restarted with its old key
 * files (`log.key` and `log.key.next`) runs on the new keys: when the next
 * log key is the one governing our next entry, it becomes the log key, the
 * next HPKE key (if any) the HPKE key, and the old HPKE key is retired.
 */
async function promoteNextKeys(o: NodeOptions): Promise<NodeOptions> {
  const next = o.keys.next;
  if (next?.log === undefined) return o;
  const file = await storedChain(o.store);
  const mine = (file?.activations ?? []).filter((a) => a.party === o.party).sort((a, b) => b.version - a.version)[0];
  const version = mine && (file?.versions ?? []).find((v) => (v.accord.version ?? 1) === mine.version);
  const named = version?.accord.parties.find((p) => p.id === o.party);
  if (named === undefined || named.logKey !== formatVerifierKey(verifierKeyOf(next.log))) return o;
  const hpkeMoved = next.hpke !== undefined && named.hpkeKey === formatBase64(next.hpke.publicKey);
  return {
    ...o,
    keys: {
      ...o.keys,
      log: next.log,
      hpke: hpkeMoved ? next.hpke! : o.keys.hpke,
      retiredHpke: [...(hpkeMoved ? [o.keys.hpke] : []), ...(o.keys.retiredHpke ?? [])],
      next: {},
    },
  };
}

/** Store metadata of an entry; `body` is its clear or opened body, for the incident id. */
export function metaOf(e: SignedEntry, body: JsonValue): EntryMeta {
  const incident = e.type === 'incident.report' && typeof body === 'object' && body !== null ? (body as { incident?: unknown }).incident : undefined;
  return {
    type: e.type,
    from: e.from.party,
    officer: e.from.officer,
    to: e.to,
    time: e.time,
    precedence: e.precedence,
    marking: e.marking,
    refs: e.refs,
    ...(typeof incident === 'string' ? { incident } : {}),
  };
}

/** The taxonomy's default precedence for a severity level. */
export function severityPrecedence(severity: number): Precedence {
  return severityLevel(TAXONOMY_V1, severity)?.precedence ?? 'ROUTINE';
}

