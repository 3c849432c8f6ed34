/**
 * A witnessed push: one request that carries both halves of a push — the
 * C2SP tlog-witness add-checkpoint request for the sender's checkpoint and
 * the signed core bundle of entries proven against that checkpoint — so a
 * hop of a FLASH round trip takes one request instead of two
 * (POST /fed/v1/bundle with Content-Type {@link WITNESSED_PUSH_CONTENT_TYPE}).
 *
 *     body = "parley-push/v1 " <n> "\n"    n: decimal byte length of the next part (no leading zeros)
 *            <add-checkpoint request>      exactly n bytes (tlog-witness §add-checkpoint body)
 *            <bundle>                      the rest: core bundle bytes (federation/bundle.ts)
 *
 * The request's Parley-Signature covers the whole body, as for every
 * node-to-node request. The receiver runs the two halves through the very
 * paths two requests would take, in the same order — its witness
 * (WitnessService.addCheckpoint, the one place the consistency decision is
 * made and stored before a cosignature leaves), then the bundle
 * (receiveBundle, which accepts entries only against the checkpoint its
 * witness holds) — and answers the push result with the cosignature lines.
 */
import { MAX_WITNESS_REQUEST_BYTES, decodeUtf8, encodeUtf8, fail } from '@parley/core';

/** Media type of a witnessed push body. */
export const WITNESSED_PUSH_CONTENT_TYPE = 'application/x.parley.witnessed-push';
/**
 * Media type of a witnessed push whose bundle carries the sender's WHOLE
 * log tail since the receiver's push cursor — entries not addressed to the
 * receiver too (their bodies stay sealed to their recipients), which it
 * mirrors — so that the witness holds every entry it cosigns (issue 9, "No
 * rollback"). Same body as {@link WITNESSED_PUSH_CONTENT_TYPE}; its own type
 * so that a node of an earlier version (which refuses such a bundle) answers
 * 415 and the sender falls back to the entries addressed to it.
 */
export const TAIL_PUSH_CONTENT_TYPE = 'application/x.parley.tail-push';
const MAGIC = 'parley-push/v1 ';
/** Longest header line: the magic, up to 7 digits (≤ MAX_WITNESS_REQUEST_BYTES), the newline. */
const MAX_HEADER = MAGIC.length + 8;

/** The two halves of a witnessed push. */
export interface WitnessedPush {
  /** The tlog-witness add-checkpoint request body. */
  readonly witness: Uint8Array;
  /** The core bundle bytes. */
  readonly bundle: Uint8Array;
}

/** Frames an add-checkpoint request and a bundle as one body; inverse of {@link parseWitnessedPush}. */
export function formatWitnessedPush(p: WitnessedPush): Uint8Array {
  const head = encodeUtf8(`${MAGIC}${p.witness.length}\n`);
  const out = new Uint8Array(head.length + p.witness.length + p.bundle.length);
  out.set(head, 0);
  out.set(p.witness, head.length);
  out.set(p.bundle, head.length + p.witness.length);
  return out;
}

/**
 * Splits a witnessed push body (the halves are parsed by their own parsers).
 * @throws ParseError `BUNDLE_MALFORMED` for a header that does not parse, a
 *   length beyond the body or beyond the add-checkpoint limit.
 */
export function parseWitnessedPush(body: Uint8Array): WitnessedPush {
  const nl = body.subarray(0, MAX_HEADER).indexOf(0x0a);
  const head = nl < 0 ? '' : decodeUtf8(body.subarray(0, nl));
  const m = /^parley-push\/v1 (0|[1-9][0-9]{0,6})$/.exec(head);
  if (!m) fail('BUNDLE_MALFORMED', 'a witnessed push starts with "parley-push/v1 <length>\\n"');
  const n = Number(m[1]);
  if (n > MAX_WITNESS_REQUEST_BYTES || nl + 1 + n > body.length) fail('BUNDLE_MALFORMED', 'the add-checkpoint length is out of range');
  return { witness: body.subarray(nl + 1, nl + 1 + n), bundle: body.subarray(nl + 1 + n) };
}
