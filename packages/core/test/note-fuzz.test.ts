/**
 * Fuzzing and round-trip properties for the note formats (STYLE.md §11):
 * random and mutated notes, checkpoints, keys and tlog-witness bodies must
 * either parse or fail with a ParleyError — never another exception, never a
 * hang — and every parser is the exact inverse of its formatter.
 *
 * Seeds: every note in shared/vectors/{signed-note,checkpoints,cosignature}.json.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBase64 } from '../src/encoding.js';
import { nodeCrypto } from '../src/crypto/node.js';
import {
  formatSignerKey,
  formatVerifierKey,
  isValidKeyName,
  newVerifierKey,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
} from '../src/note/key.js';
import type { SupportedKeyType } from '../src/note/key.js';
import { formatNote, openNote, parseNote } from '../src/note/note.js';
import type { NoteSignature } from '../src/note/note.js';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../src/note/checkpoint.js';
import type { Checkpoint } from '../src/note/checkpoint.js';
import { cosignatureTimestamp, formatCosignature, parseCosignature } from '../src/note/cosignature.js';
import { openWitnessedCheckpoint } from '../src/note/witnessed.js';
import {
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  formatAddCheckpointResponse,
  parseAddCheckpointRequest,
  parseAddCheckpointResponse,
} from '../src/note/witness.js';
import { VerifierSet } from '../src/note/verifier.js';
import { onlyParleyErrors } from './helpers/assert.js';
import { useProvider } from './helpers/providers.js';
import { b64, loadVectors } from './helpers/vectors.js';

interface Vectors {
  notes?: { note_b64: string; verifier_keys: string[] }[];
  keys?: { vkey: string; skey: string | null }[];
  checkpoints?: { note_b64: string; expect: { valid_with?: string[] }; signatures?: { vkey: string | null }[] }[];
  real_cosignatures?: { vkey: string }[];
  tlog_witness_examples?: { add_checkpoint_request_utf8: string; add_checkpoint_response_utf8: string };
}

const SN = loadVectors<Vectors>('signed-note.json');
const CP = loadVectors<Vectors>('checkpoints.json');
const CS = loadVectors<Vectors>('cosignature.json');
const enc = new TextEncoder();

const vkeys = [...new Set([...SN.keys!.map((k) => k.vkey), ...CP.checkpoints!.flatMap((c) => (c.signatures ?? []).map((s) => s.vkey).filter((v): v is string => v !== null))])];
const logVkeys = vkeys.filter((v) => parseVerifierKey(v).type === 1);
const witnessVkeys = CS.real_cosignatures!.map((c) => c.vkey);
const SEEDS: Uint8Array[] = [
  ...SN.notes!.map((n) => b64(n.note_b64)),
  ...CP.checkpoints!.map((c) => b64(c.note_b64)),
  enc.encode(CS.tlog_witness_examples!.add_checkpoint_request_utf8),
  enc.encode(CS.tlog_witness_examples!.add_checkpoint_response_utf8),
];
const KEY_SEEDS = [...vkeys, ...SN.keys!.flatMap((k) => (k.skey === null ? [] : [k.skey]))];

/** One edit to a byte string. */
type Edit = { kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate' | 'dup'; pos: number; byte: number; len: number };
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'dup'),
  pos: fc.nat(),
  // Bias towards the bytes that matter to the formats.
  byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x0a, 0x20, 0x2b, 0x3d, 0x2f, 0xe2, 0x80, 0x94, 0x30)),
  len: fc.integer({ min: 1, max: 64 }),
});

function applyEdits(seed: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b = Array.from(seed);
  for (const e of edits) {
    const p = b.length === 0 ? 0 : e.pos % (b.length + 1);
    if (e.kind === 'flip' && p < b.length) b[p] = b[p]! ^ (1 << e.byte % 8);
    else if (e.kind === 'set' && p < b.length) b[p] = e.byte;
    else if (e.kind === 'insert') b.splice(p, 0, e.byte);
    else if (e.kind === 'delete') b.splice(p, e.len);
    else if (e.kind === 'truncate') b = b.slice(0, p);
    else if (e.kind === 'dup') b.splice(p, 0, ...b.slice(p, p + e.len));
  }
  return Uint8Array.from(b);
}

const mutated = fc.tuple(fc.constantFrom(...SEEDS), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([s, e]) => applyEdits(s, e));
const anyBytes = fc.oneof(mutated, fc.uint8Array({ maxLength: 600 }), fc.string({ unit: 'binary', maxLength: 300 }).map((s) => enc.encode(s)));

const logSet = new VerifierSet(logVkeys);
const ctx = {
  logKeys: (o: string) => (o.length > 0 ? logSet : undefined),
  latest: () => undefined,
  checkConsistency: () => false,
};

/** Every parser and opener we expose, applied to one input. */
function exercise(input: Uint8Array): void {
  const text = new TextDecoder().decode(input);
  for (const f of [
    () => parseNote(input),
    () => parseNote(text),
    () => openNote(input, logSet),
    () => openCheckpoint(input, logSet),
    () => openWitnessedCheckpoint(input, logSet, witnessVkeys, { quorum: 1 }),
    () => parseCheckpoint(text),
    () => parseAddCheckpointRequest(input),
    () => parseAddCheckpointResponse(input),
    () => cosignatureTimestamp(input),
    () => parseCosignature(input),
  ]) {
    onlyParleyErrors(f);
  }
  // The witness decision never throws: bad input becomes a status.
  expect([200, 400, 403, 404, 409, 422]).toContain(decideAddCheckpoint(input, ctx).status);
}

function timed(f: () => void): void {
  const t0 = performance.now();
  f();
  expect(performance.now() - t0).toBeLessThan(2000);
}

const keyName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).filter(isValidKeyName);
const lineText = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\u0000-\u001f\ud800-\udfff]/g, '.'));
const noteText = fc.array(lineText, { maxLength: 8 }).map((ls) => ls.map((l) => l + '\n').join('') || '\n');
const signature: fc.Arbitrary<NoteSignature> = fc.record({
  name: keyName.map((n) => n.replace(/[\u0000-\u001f]/g, 'x')),
  keyId: fc.integer({ min: 0, max: 4294967295 }),
  signature: fc.uint8Array({ minLength: 1, maxLength: 100 }),
});
const signatures = fc.uniqueArray(signature, { minLength: 1, maxLength: 12, selector: (s) => `${s.name}+${s.keyId}` });
const checkpoint: fc.Arbitrary<Checkpoint> = fc.record({
  origin: lineText.filter((s) => s !== ''),
  treeSize: fc.maxSafeNat(),
  rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  extensions: fc.array(lineText.filter((s) => s !== ''), { maxLength: 3 }),
});

describe('note formats under fuzzing', () => {
  useProvider(nodeCrypto);

  it('mutated and random inputs fail only with ParleyError, quickly', () => {
    fc.assert(fc.property(anyBytes, (input) => timed(() => exercise(input))), { numRuns: 6000 });
  });

  it('mutated and random key strings fail only with ParleyError', () => {
    const mutatedKey = fc.tuple(fc.constantFrom(...KEY_SEEDS), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, e]) => new TextDecoder().decode(applyEdits(enc.encode(s), e)));
    fc.assert(
      fc.property(fc.oneof(mutatedKey, fc.string({ maxLength: 120 })), (k) => {
        onlyParleyErrors(() => parseVerifierKey(k));
        onlyParleyErrors(() => parseSignerKey(k));
        onlyParleyErrors(() => new VerifierSet([k]));
      }),
      { numRuns: 3000 },
    );
  });

  it('whatever parseNote / parseCheckpoint / request and response parsers accept, the formatters reproduce exactly', () => {
    fc.assert(
      fc.property(mutated, (input) => {
        const note = onlyParleyErrors(() => parseNote(input)) === undefined ? parseNote(input) : undefined;
        if (note !== undefined) {
          expect(formatNote(note)).toEqual(input);
          const cp = onlyParleyErrors(() => parseCheckpoint(note.text)) === undefined ? parseCheckpoint(note.text) : undefined;
          if (cp !== undefined) expect(formatCheckpoint(cp)).toBe(note.text);
        }
        if (onlyParleyErrors(() => parseAddCheckpointRequest(input)) === undefined) expect(formatAddCheckpointRequest(parseAddCheckpointRequest(input))).toEqual(input);
        if (onlyParleyErrors(() => parseAddCheckpointResponse(input)) === undefined) expect(formatAddCheckpointResponse(parseAddCheckpointResponse(input))).toEqual(input);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('round-trip properties', () => {
  useProvider(nodeCrypto);

  it('parseNote(formatNote(x)) = x', () => {
    fc.assert(
      fc.property(noteText, signatures, (text, sigs) => {
        const parsed = parseNote(formatNote({ text, signatures: sigs }));
        expect(parsed.text).toBe(text);
        expect(parsed.signatures).toEqual(sigs);
      }),
      { numRuns: 1000 },
    );
  });

  it('parseCheckpoint(formatCheckpoint(x)) = x', () => {
    fc.assert(
      fc.property(checkpoint, (cp) => {
        expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
      }),
      { numRuns: 1000 },
    );
  });

  it('vkeys and skeys round-trip', () => {
    fc.assert(
      fc.property(keyName, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom<SupportedKeyType>(1, 4), (name, seed, type) => {
        const sk = signerKeyFromSeed(name, seed, type);
        expect(parseSignerKey(formatSignerKey(sk))).toEqual(sk);
        const vk = newVerifierKey(name, type, sk.publicKey);
        expect(parseVerifierKey(formatVerifierKey(vk))).toEqual(vk);
      }),
      { numRuns: 300 },
    );
  });

  it('cosignature bytes round-trip', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.uint8Array({ minLength: 64, maxLength: 64 }), (timestamp, sig) => {
        expect(parseCosignature(formatCosignature({ timestamp, signature: sig }))).toEqual({ timestamp, signature: sig });
      }),
      { numRuns: 1000 },
    );
  });

  it('add-checkpoint requests round-trip', () => {
    const note = CS.tlog_witness_examples!.add_checkpoint_request_utf8.split('\n\n').slice(1).join('\n\n');
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 63 }), (oldSize, proof) => {
        const req = parseAddCheckpointRequest(formatAddCheckpointRequest({ oldSize, proof, checkpointNote: note }));
        expect([req.oldSize, req.proof.map(formatBase64)]).toEqual([oldSize, proof.map(formatBase64)]);
        expect(new TextDecoder().decode(req.checkpointNote)).toBe(note);
      }),
      { numRuns: 500 },
    );
  });
});
