/**
 * One error catalog for Parley.
 *
 * Four kinds of failure are kept apart (STYLE.md §7):
 * - bad input → {@link ParseError} (or a more specific subclass) with a stable code;
 * - failed verification → {@link VerificationError}; proofs fail with the single
 *   code `PROOF_INVALID` and no hint at which hash was wrong;
 * - evidence of misbehaviour (conflicting checkpoints, missed deadlines) is a
 *   value, never thrown (see later modules);
 * - our own bugs are plain `Error`s with an `internal:` message.
 *
 * Every code has a row in {@link ERROR_CATALOG} (HTTP status and RFC 9457
 * problem type for the node's API) and in `docs/errors.md` ("how to fix");
 * `test/errors.test.ts` fails if the three disagree. Tests assert `code`,
 * never message text.
 */

/** Which part of the catalog a code belongs to; picks the error class. */
export type ErrorKind = 'parse' | 'verification' | 'argument' | 'store';

interface CatalogRow {
  readonly kind: ErrorKind;
  /** HTTP status when this error reaches the API boundary (RFC 9110 §15). */
  readonly status: number;
  /** RFC 9457 §3.1.3 `title`: short, the same for every occurrence. */
  readonly title: string;
}

/** The catalog: stable code → kind, HTTP status, problem title. */
export const ERROR_CATALOG = {
  // Encodings shared by every format.
  ENCODING_INVALID: { kind: 'parse', status: 400, title: 'Invalid encoding (base64, hex, decimal or UTF-8)' },
  HASH_INVALID: { kind: 'parse', status: 400, title: 'Hash is not 32 bytes' },
  INPUT_TOO_LARGE: { kind: 'parse', status: 413, title: 'Input exceeds its size limit' },

  // Merkle trees (RFC 6962 / RFC 9162 §2.1).
  TREE_ARGUMENT_INVALID: { kind: 'argument', status: 400, title: 'Index or tree size out of range' },
  PROOF_INVALID: { kind: 'verification', status: 422, title: 'Proof does not verify' },

  // C2SP signed-note.
  NOTE_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed signed note' },
  NOTE_TOO_LARGE: { kind: 'parse', status: 413, title: 'Signed note too large' },
  NOTE_TOO_MANY_SIGNATURES: { kind: 'parse', status: 400, title: 'Signed note has too many signatures' },
  NOTE_DUPLICATE_SIGNATURE: { kind: 'parse', status: 400, title: 'Signed note repeats a signature' },
  NOTE_UNVERIFIED: { kind: 'verification', status: 403, title: 'No signature from a known key' },
  SIGNATURE_INVALID: { kind: 'verification', status: 403, title: 'A signature from a known key does not verify' },
  KEY_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed key' },
  KEY_UNSUPPORTED: { kind: 'parse', status: 400, title: 'Unsupported note key type' },
  KEY_ID_MISMATCH: { kind: 'parse', status: 400, title: 'Key ID does not match the key' },
  KEY_AMBIGUOUS: { kind: 'argument', status: 400, title: 'Two different keys share a name and key ID' },

  // C2SP tlog-checkpoint and tlog-cosignature.
  CHECKPOINT_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed checkpoint' },
  ORIGIN_MISMATCH: { kind: 'verification', status: 403, title: 'Checkpoint origin is not the expected one' },
  COSIGNATURE_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed cosignature' },
  QUORUM_NOT_MET: { kind: 'verification', status: 403, title: 'Too few distinct witnesses cosigned the checkpoint' },

  // C2SP tlog-tiles.
  TILE_PATH_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed tile path' },
  TILE_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed tile or entry bundle' },
  TILE_INVALID: { kind: 'verification', status: 422, title: 'Tile does not match the checkpoint' },

  // C2SP tlog-witness.
  WITNESS_REQUEST_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed add-checkpoint request' },
  WITNESS_RESPONSE_MALFORMED: { kind: 'parse', status: 502, title: 'Malformed witness response' },

  // Accords and entries (accord/, entry/).
  ACCORD_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed accord' },
  ACCORD_UNSIGNED: { kind: 'verification', status: 403, title: 'Accord is not signed by every party' },
  // Accord chain and key epochs (accord/chain.ts, accord/epochs.ts, issue 11).
  ACCORD_VERSION: { kind: 'verification', status: 409, title: 'Accord version is not the next one (skipped, repeated or rolled back)' },
  ACCORD_CHAIN: { kind: 'verification', status: 409, title: 'Accord version does not link to the version before it' },
  ACCORD_QUORUM: { kind: 'verification', status: 403, title: 'Accord amendment lacks the quorum of the version before it' },
  ACCORD_CONSENT: { kind: 'verification', status: 403, title: 'Accord amendment lacks the consent of a party it adds or whose keys it changes' },
  ACCORD_FORKED: { kind: 'verification', status: 409, title: 'Two different signed accord versions follow the same version' },
  KEY_RETIRED: { kind: 'verification', status: 403, title: 'Signed by a key beyond its rotation size' },
  CHANNEL_FROZEN: { kind: 'argument', status: 409, title: 'The channel is frozen: its accord has one party left' },
  PARTY_DEPARTED: { kind: 'verification', status: 403, title: 'Entry or checkpoint of a departed party beyond the end of its log' },
  ENTRY_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed entry' },
  ENTRY_INVALID: { kind: 'verification', status: 422, title: 'Entry does not belong to this channel' },
  COMMITMENT_MISMATCH: { kind: 'verification', status: 422, title: 'Body does not match its commitment' },

  // Acknowledgements (node service.ts): one per entry, of entries an officer answers (issue 9).
  ALREADY_ACKNOWLEDGED: { kind: 'argument', status: 409, title: 'Entry is already acknowledged' },
  NOT_ACKNOWLEDGEABLE: { kind: 'argument', status: 422, title: 'Entry type is not acknowledged by officers' },
  ENTRY_WITHDRAWN: { kind: 'argument', status: 409, title: 'Entry was withdrawn by its sender: no acknowledgement is due' },

  // Offline bundles (federation/bundle.ts).
  BUNDLE_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed offline bundle' },
  BUNDLE_INVALID: { kind: 'verification', status: 422, title: 'Offline bundle does not verify for this node' },
  // A witnessed push that would have this node cosign entries it does not hold (issue 9, "No rollback").
  PUSH_INCOMPLETE: { kind: 'verification', status: 422, title: 'Push does not carry every entry of the checkpoint it asks to cosign' },

  // Evaluation commitments, notices and reveals (eval/, issue 12).
  EVAL_DISCLOSURE_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed disclosure' },
  EVAL_DISCLOSURE_MISMATCH: { kind: 'verification', status: 422, title: 'Disclosure matches no committed digest' },
  EVAL_SALT_REUSED: { kind: 'verification', status: 422, title: 'Two disclosures share a salt' },
  EVAL_DISCLOSURE_DUPLICATE: { kind: 'verification', status: 422, title: 'Disclosure or digest given twice' },
  EVAL_CLAIM_UNKNOWN: { kind: 'argument', status: 400, title: 'No committed claim at that path' },
  EVAL_DOCUMENT_INVALID: { kind: 'parse', status: 400, title: 'Malformed evaluation document' },
  EVAL_COMMITMENT_MISSING: { kind: 'verification', status: 422, title: 'Referenced evaluation commitment is not held' },
  EVAL_NOTICE_BEFORE_COMMITMENT: { kind: 'verification', status: 422, title: 'Deployment notice predates its commitment' },
  EVAL_NOT_ADDRESSED: { kind: 'verification', status: 403, title: 'Reveal is not addressed to this party' },
  EVIDENCE_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed evaluation evidence bundle' },
  EVIDENCE_INVALID: { kind: 'verification', status: 422, title: 'Evaluation evidence does not verify' },
  DSSE_INVALID: { kind: 'verification', status: 422, title: 'DSSE envelope is malformed or its signature does not verify' },

  // Retractions and supersessions (node retractions.ts, issue 13).
  RETRACTION_REFS: { kind: 'parse', status: 400, title: 'Retraction cites the wrong number of entries for its action' },
  RETRACTION_NOT_OWN: { kind: 'verification', status: 403, title: 'Retraction cites an entry of another party\u2019s log' },
  RETRACTION_TARGET_MISSING: { kind: 'verification', status: 422, title: 'Retracted entry is not held (or its leaf hash differs)' },
  RETRACTION_NOT_RETRACTABLE: { kind: 'verification', status: 422, title: 'Entry type cannot be retracted' },
  RETRACTION_ALREADY: { kind: 'argument', status: 409, title: 'Entry is already retracted or superseded' },
  RETRACTION_REPLACEMENT_INVALID: { kind: 'verification', status: 422, title: 'Replacement is not a later entry of the same type (and incident)' },
  RETRACTION_RECIPIENTS: { kind: 'verification', status: 422, title: 'Retraction is not addressed to the withdrawn entry\u2019s recipients' },
  RETRACTION_MARKING: { kind: 'verification', status: 422, title: 'Retraction marking is less restrictive than the withdrawn entry\u2019s' },

  // Storage (packages/store): our side, not the caller's input.
  STORE_CONFLICT: { kind: 'store', status: 409, title: 'Conflicts with what is stored' },
  STORE_CORRUPT: { kind: 'store', status: 500, title: 'Stored data failed an integrity check' },
  STORE_UNAVAILABLE: { kind: 'store', status: 503, title: 'Storage is unavailable' },
  DATA_DIR_LOCKED: { kind: 'store', status: 409, title: 'Data directory is locked by another running node or command' },
  // Own-log continuity (node rollback guard, issue 9): our state, not the caller's input.
  LOG_ROLLED_BACK: { kind: 'store', status: 409, title: 'This node\u2019s log is behind what its peers cosigned' },
  LOG_UNCONFIRMED: { kind: 'store', status: 503, title: 'This node\u2019s log size is not yet confirmed by a peer' },
  // Several processes for one party on one PostgreSQL database (node sequencer.ts, issue 14).
  SEQUENCER_UNAVAILABLE: { kind: 'store', status: 503, title: 'The party\u2019s sequencer is not reachable: nothing can be written right now' },
  // Idempotent retries (node http/idempotency.ts, issue 14; IETF httpapi-idempotency-key-header).
  IDEMPOTENCY_KEY_REUSED: { kind: 'argument', status: 422, title: 'This Idempotency-Key was used for another request' },
  IDEMPOTENCY_KEY_IN_FLIGHT: { kind: 'argument', status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  // Static mirror (node mirror.ts, issue 14): the directory, not the caller's input.
  MIRROR_CONFLICT: { kind: 'store', status: 409, title: 'The mirror directory holds another log or another history of this one' },
  MIRROR_LOCKED: { kind: 'store', status: 409, title: 'Another live publisher holds this mirror directory' },

  // RFC 9180 HPKE envelopes and salted commitments (envelope/).
  HPKE_OPEN_FAILED: { kind: 'verification', status: 422, title: 'Sealed envelope does not open' },
  COMMITMENT_SALT_INVALID: { kind: 'parse', status: 400, title: 'Commitment salt is not 32 bytes' },

  // RFC 8785 canonical JSON.
  JSON_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed JSON' },
  JSON_NOT_CANONICALIZABLE: { kind: 'parse', status: 400, title: 'Value cannot be canonicalized (RFC 8785)' },

  // Taxonomy (taxonomy/).
  TAXONOMY_INVALID: { kind: 'parse', status: 400, title: 'Malformed taxonomy' },
  TAXONOMY_UNKNOWN: { kind: 'verification', status: 422, title: 'The accord names a taxonomy this node does not know' },

  // Federation: fork proofs and node-to-node request signatures (federation/fork.ts, federation/request.ts).
  FORK_PROOF_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed fork proof' },
  FORK_PROOF_INVALID: { kind: 'verification', status: 422, title: 'Fork proof does not verify' },
  LOG_FORKED: { kind: 'verification', status: 422, title: 'The log is forked: this node holds a fork proof against it' },
  REQUEST_SIGNATURE_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed Parley-Signature header' },
  REQUEST_UNAUTHENTICATED: { kind: 'verification', status: 401, title: 'Request is not authenticated by a party of the accord' },
  CONTENT_DIGEST_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed Content-Digest header' },
  CONTENT_DIGEST_MISMATCH: { kind: 'verification', status: 400, title: 'Body does not match its Content-Digest' },

  // RFC 3161 time-stamp tokens on checkpoints (tsa/, issue 12).
  TSA_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed time-stamp token or response' },
  TSA_REJECTED: { kind: 'verification', status: 422, title: 'Time-stamping authority did not grant the request' },
  TSA_UNAVAILABLE: { kind: 'parse', status: 502, title: 'Time-stamping authority unreachable or answered an HTTP error' },
  TSA_IMPRINT_MISMATCH: { kind: 'verification', status: 422, title: 'Time-stamp token is for another message imprint' },
  TSA_NONCE_MISMATCH: { kind: 'verification', status: 422, title: 'Time-stamp token does not carry the request nonce' },
  TSA_SIGNATURE: { kind: 'verification', status: 422, title: 'Time-stamp token signature does not verify' },
  TSA_UNTRUSTED: { kind: 'verification', status: 422, title: 'Time-stamp certificate does not chain to a root of an accord authority' },
  TSA_EKU: { kind: 'verification', status: 422, title: 'Time-stamp certificate lacks the sole critical timeStamping extended key usage' },
  TSA_POLICY: { kind: 'verification', status: 422, title: 'Time-stamp policy is not the authority\u2019s' },
  TSA_EXPIRED: { kind: 'verification', status: 422, title: 'Time-stamp time outside the certificate\u2019s or the authority\u2019s validity' },

  // STIX 2.1 export and MITRE ATLAS (stix/, issue 13).
  STIX_INPUT_INVALID: { kind: 'argument', status: 400, title: 'Not one incident\u2019s entries as the STIX export takes them' },
  STIX_SEALED: { kind: 'verification', status: 403, title: 'Incident not readable by the caller: no STIX export' },
  ATLAS_TECHNIQUE_UNKNOWN: { kind: 'parse', status: 422, title: 'Not a technique of the shipped MITRE ATLAS release' },
  // AI Incident Database import and export, cross-party incident links (issue 13).
  AIID_CSV_MALFORMED: { kind: 'parse', status: 400, title: 'Malformed AI Incident Database snapshot CSV' },
  AIID_MAP_INVALID: { kind: 'parse', status: 400, title: 'Malformed AIID mapping file' },
  IMPORT_TOO_LARGE: { kind: 'parse', status: 413, title: 'Import exceeds its size limit' },
  IMPORT_RECORD_INVALID: { kind: 'parse', status: 422, title: 'An import record is not a valid attributed incident report' },
  LINK_INVALID: { kind: 'argument', status: 422, title: 'These incidents cannot be linked' },
  LINK_EXISTS: { kind: 'argument', status: 409, title: 'These incidents are already linked' },
} as const satisfies Record<string, CatalogRow>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** RFC 9457 §3.1.1 problem `type` URI for a code. */
export function problemType(code: ErrorCode): string {
  return `urn:parley:error:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Base class of every error Parley reports to a caller. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  /** HTTP status from the catalog. */
  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }
}

/** Input that does not follow its format. */
export class ParseError extends ParleyError {}
/** Input that parsed but did not verify: bad signature, bad proof. */
export class VerificationError extends ParleyError {}
/** A call with values out of range (index ≥ size, negative size, …). */
export class ArgumentError extends ParleyError {}
/** A storage failure: a conflict with stored data, corruption, or the store being unavailable. */
export class StoreError extends ParleyError {}

/** Throws the class the catalog assigns to `code`. */
export function fail(code: ErrorCode, message: string, cause?: unknown): never {
  const options = cause === undefined ? undefined : { cause };
  switch (ERROR_CATALOG[code].kind) {
    case 'parse':
      throw new ParseError(code, message, options);
    case 'verification':
      throw new VerificationError(code, message, options);
    case 'argument':
      throw new ArgumentError(code, message, options);
    case 'store':
      throw new StoreError(code, message, options);
  }
}

/** True when `e` is a ParleyError with `code` (for callers that branch on codes). */
export function isParleyError(e: unknown, code?: ErrorCode): e is ParleyError {
  return e instanceof ParleyError && (code === undefined || e.code === code);
}
