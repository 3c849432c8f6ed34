/**
 * C2SP tlog-witness add-checkpoint: the spec's request/response examples
 * (shared/vectors/cosignature.json tlog_witness_examples), strict parsing and
 * size caps, and the HTTP status decision for every status in the vectors'
 * table, with real RFC 6962 trees and consistency proofs from the Merkle
 * module. Run against both crypto bindings.
 */
import { describe, expect, it } from 'vitest';
import { ParseError } from '../src/errors.js';
import type { ErrorCode } from '../src/errors.js';
import { encodeUtf8, formatBase64 } from '../src/encoding.js';
import { getCrypto } from '../src/crypto/provider.js';
import { MemoryTree, proveConsistency, verifyConsistency } from '../src/merkle/index.js';
import { SIG_TYPE_COSIGNATURE_V1, formatKeyId, generateSignerKey, verifierKeyOf } from '../src/note/key.js';
import { cosign } from '../src/note/cosignature.js';
import { formatCheckpoint, signCheckpoint } from '../src/note/checkpoint.js';
import type { Checkpoint } from '../src/note/checkpoint.js';
import { appendSignatures, formatNote, parseNote } from '../src/note/note.js';
import { VerifierSet, newSigner } from '../src/note/verifier.js';
import {
  MAX_PROOF_LINES,
  TLOG_SIZE_CONTENT_TYPE,
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  formatAddCheckpointResponse,
  parseAddCheckpointRequest,
  parseAddCheckpointResponse,
} from '../src/note/witness.js';
import type { AddCheckpointContext, CheckConsistency, WitnessLogState } from '../src/note/witness.js';
import { openWitnessedCheckpoint } from '../src/note/witnessed.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { loadVectors } from './helpers/vectors.js';

interface WitnessExamples {
  add_checkpoint_request_utf8: string;
  add_checkpoint_request_expect_parse: {
    old_size: number;
    proof_b64: string[];
    checkpoint: { origin: string; tree_size: number; root_hash_b64: string };
    signature_lines: number;
  };
  add_checkpoint_response_utf8: string;
  add_checkpoint_response_expect_parse: { signature_lines: { name: string }[] };
  status_codes: Record<string, string>;
}

const W = loadVectors<{ tlog_witness_examples: WitnessExamples }>('cosignature.json').tlog_witness_examples;
const merkleCheck: CheckConsistency = (oldSize, newSize, oldRoot, newRoot, proof) => verifyConsistency(proof, oldSize, newSize, oldRoot, newRoot);

describe.each(providers)('C2SP tlog-witness with $name', (provider) => {
  useProvider(provider);

  describe('spec examples', () => {
    it('parses the add-checkpoint request', () => {
      const req = parseAddCheckpointRequest(encodeUtf8(W.add_checkpoint_request_utf8));
      const e = W.add_checkpoint_request_expect_parse;
      expect(req.oldSize).toBe(e.old_size);
      expect(req.proof.map(formatBase64)).toEqual(e.proof_b64);
      expect(req.checkpoint.origin).toBe(e.checkpoint.origin);
      expect(req.checkpoint.treeSize).toBe(e.checkpoint.tree_size);
      expect(formatBase64(req.checkpoint.rootHash)).toBe(e.checkpoint.root_hash_b64);
      expect(req.note.signatures).toHaveLength(e.signature_lines);
      expect(formatAddCheckpointRequest(req)).toEqual(encodeUtf8(W.add_checkpoint_request_utf8));
      expect(parseAddCheckpointRequest(W.add_checkpoint_request_utf8).checkpointNote).toEqual(req.checkpointNote);
    });

    it('parses the add-checkpoint response', () => {
      const sigs = parseAddCheckpointResponse(encodeUtf8(W.add_checkpoint_response_utf8));
      expect(sigs.map((s) => ({ name: s.name }))).toEqual(W.add_checkpoint_response_expect_parse.signature_lines);
      expect(formatAddCheckpointResponse(sigs)).toEqual(encodeUtf8(W.add_checkpoint_response_utf8));
    });
  });

  describe('strict parsing', () => {
    const req = W.add_checkpoint_request_utf8;
    const [head, note] = [req.slice(0, req.indexOf('\n\n') + 2), req.slice(req.indexOf('\n\n') + 2)];
    const h = formatBase64(new Uint8Array(32));
    it.each([
      ['missing old line', note],
      ['old with leading zero', `old 01\n\n${note}`],
      ['negative old', `old -1\n\n${note}`],
      ['two spaces', `old  1\n\n${note}`],
      ['capitalised', `Old 1\n\n${note}`],
      ['old above 2^53-1', `old 9007199254740992\n\n${note}`],
      ['carriage return', `old 1\r\n\n${note}`],
      ['no empty line', `old 1\n${h}\n`],
      ['bad base64 proof line', `old 1\nnot base64\n\n${note}`],
      ['31-byte proof hash', `old 1\n${formatBase64(new Uint8Array(31))}\n\n${note}`],
      ['64 proof lines', `old 1\n${`${h}\n`.repeat(MAX_PROOF_LINES + 1)}\n${note}`],
      ['unsigned checkpoint', `${head}example.com/x\n1\n${h}\n`],
      ['bad checkpoint body', `${head}${note.replace('20852163', '020852163')}`],
      ['note without final newline', `${head}${note.slice(0, -1)}`],
      ['invalid UTF-8', concatenate(encodeUtf8(head), Uint8Array.of(0xff), encodeUtf8(note))],
    ])('rejects request: %s', (_what, body) => {
      assertThrowsCode(() => parseAddCheckpointRequest(body), ParseError, 'WITNESS_REQUEST_MALFORMED');
    });

    it('accepts exactly 63 proof lines and caps the body size', () => {
      expect(parseAddCheckpointRequest(`old 1\n${`${h}\n`.repeat(MAX_PROOF_LINES)}\n${note}`).proof).toHaveLength(63);
      assertThrowsCode(() => parseAddCheckpointRequest(`old 1\n\n${'x'.repeat(1 << 21)}`), ParseError, 'INPUT_TOO_LARGE');
    });

    it.each([
      ['empty', ''],
      ['no final newline', W.add_checkpoint_response_utf8.slice(0, -1)],
      ['plain text', 'ok\n'],
      ['a whole note', note],
      ['blank line', `\n${W.add_checkpoint_response_utf8}`],
    ])('rejects response: %s', (_what, body) => {
      assertThrowsCode(() => parseAddCheckpointResponse(body), ParseError, 'WITNESS_RESPONSE_MALFORMED');
    });

    it('caps the response size', () => {
      assertThrowsCode(() => parseAddCheckpointResponse('\u2014 a ' + 'A'.repeat(300000) + '\n'), ParseError, 'INPUT_TOO_LARGE');
    });

    it('formatters refuse what the parsers would refuse', () => {
      assertThrowsCode(() => formatAddCheckpointRequest({ oldSize: -1, proof: [], checkpointNote: note }), ParseError, 'WITNESS_REQUEST_MALFORMED');
      assertThrowsCode(() => formatAddCheckpointRequest({ oldSize: 1, proof: [new Uint8Array(3)], checkpointNote: note }), ParseError, 'WITNESS_REQUEST_MALFORMED');
      assertThrowsCode(() => formatAddCheckpointRequest({ oldSize: 1, proof: [], checkpointNote: 'junk\n' }), ParseError, 'WITNESS_REQUEST_MALFORMED');
      assertThrowsCode(() => formatAddCheckpointResponse([]), ParseError, 'WITNESS_RESPONSE_MALFORMED');
      assertThrowsCode(() => formatAddCheckpointResponse([{ name: 'a b', keyId: 1, signature: Uint8Array.of(1) }]), ParseError, 'WITNESS_RESPONSE_MALFORMED');
    });
  });

  describe('decideAddCheckpoint: every status in the vectors table', () => {
    const origin = 'example.com/witnessed-log';
    const logKey = generateSignerKey(origin);
    const tree = new MemoryTree();
    for (let i = 0; i < 20; i++) tree.appendData(encodeUtf8(`leaf ${i}`));
    const rootAt = (n: number) => {
      const t = new MemoryTree();
      for (let i = 0; i < n; i++) t.appendData(encodeUtf8(`leaf ${i}`));
      return t.root();
    };
    const cpAt = (n: number, root = rootAt(n)): Checkpoint => ({ origin, treeSize: n, rootHash: root, extensions: [] });
    const noteAt = (n: number, root?: Uint8Array) => signCheckpoint(cpAt(n, root), newSigner(logKey));
    const request = (oldSize: number, n: number, proof: Uint8Array[] = oldSize > 0 && oldSize < n ? proveConsistency(oldSize, n, tree) : [], note = noteAt(n)) =>
      formatAddCheckpointRequest({ oldSize, proof, checkpointNote: note });
    const ctx = (latest?: WitnessLogState, check: CheckConsistency = merkleCheck): AddCheckpointContext => ({
      logKeys: (o) => (o === origin ? new VerifierSet([verifierKeyOf(logKey)]) : undefined),
      latest: (o) => (o === origin ? latest : undefined),
      checkConsistency: check,
    });
    const at = (n: number): WitnessLogState => ({ treeSize: n, rootHash: rootAt(n) });
    const seen = new Set<number>();
    const decide = (...args: Parameters<typeof decideAddCheckpoint>) => {
      const out = decideAddCheckpoint(...args);
      seen.add(out.status);
      return out;
    };

    it('200: first checkpoint (old size 0, no proof), then a consistent extension', () => {
      const first = decide(request(0, 10), ctx());
      expect(first.status).toBe(200);
      let args: unknown[] = [];
      const spy: CheckConsistency = (...a) => {
        args = a;
        return merkleCheck(...a);
      };
      const next = decide(request(10, 20), ctx(at(10), spy));
      expect(next.status).toBe(200);
      expect(args.slice(0, 2)).toEqual([10, 20]);
      if (next.status === 200) expect(next.checkpoint.treeSize).toBe(20);
    });

    it('200: same size and same root (no proof); empty tree with SHA-256("")', () => {
      expect(decide(request(10, 10), ctx(at(10))).status).toBe(200);
      expect(decide(request(0, 0, [], noteAt(0, getCrypto().sha256(new Uint8Array(0)))), ctx()).status).toBe(200);
    });

    it('400: malformed body, or old size above the checkpoint size', () => {
      const bad = decide('old x\n\n', ctx());
      expect(bad.status).toBe(400);
      if (bad.status === 400) expect(bad.error?.code).toBe<ErrorCode>('WITNESS_REQUEST_MALFORMED');
      const over = decide(request(11, 10, []), ctx(at(11)));
      expect([over.status, 'reason' in over && over.reason]).toEqual([400, 'old-size-too-large']);
    });

    it('403: no trusted signature, or a trusted signature that fails', () => {
      const other = signCheckpoint(cpAt(10), newSigner(generateSignerKey(origin)));
      expect(decide(request(0, 10, [], other), ctx()).status).toBe(403);
      const tampered = Buffer.from(noteAt(10)).toString('utf8').replace('\n10\n', '\n11\n');
      expect(decide(request(0, 11, [], encodeUtf8(tampered)), ctx()).status).toBe(403);
    });

    it('404: unknown origin', () => {
      const stranger = generateSignerKey('example.com/other');
      const note = signCheckpoint({ ...cpAt(10), origin: 'example.com/other' }, newSigner(stranger));
      expect(decide(request(0, 10, [], note), ctx()).status).toBe(404);
    });

    it('409: old size differs from the latest cosigned size; body is that size', () => {
      const out = decide(request(5, 10), ctx(at(7)));
      expect(out.status).toBe(409);
      if (out.status === 409) {
        expect(out.latestSize).toBe(7);
        expect(out.body).toBe('7\n');
      }
      const never = decide(request(5, 10), ctx());
      expect(never.status === 409 && never.body).toBe('0\n');
      expect(TLOG_SIZE_CONTENT_TYPE).toBe('text/x.tlog.size');
    });

    it('422: bad proof, proof with old size 0, equal sizes with another root, empty tree with a wrong root', () => {
      const proof = proveConsistency(10, 20, tree).map((p) => Uint8Array.from(p));
      proof[0]![0] = (proof[0]![0]! + 1) % 256;
      const reason = (o: ReturnType<typeof decideAddCheckpoint>) => [o.status, 'reason' in o ? o.reason : undefined];
      expect(reason(decide(request(10, 20, proof), ctx(at(10))))).toEqual([422, 'inconsistent']);
      expect(reason(decide(request(10, 20, []), ctx(at(10))))).toEqual([422, 'inconsistent']);
      expect(reason(decide(request(0, 10, [new Uint8Array(32)]), ctx()))).toEqual([422, 'proof-with-old-size-zero']);
      expect(reason(decide(request(10, 10, [], noteAt(10, rootAt(11))), ctx(at(10))))).toEqual([422, 'root-mismatch']);
      expect(reason(decide(request(0, 0, [], noteAt(0, new Uint8Array(32))), ctx()))).toEqual([422, 'empty-tree-root']);
    });

    it('covered every status code listed in the vectors', () => {
      expect([...seen].sort()).toEqual(Object.keys(W.status_codes).map(Number).sort());
    });

    it('a 200 answer: witness cosigns, client merges the response into its note', () => {
      const witness = generateSignerKey('witness.example/w1', SIG_TYPE_COSIGNATURE_V1);
      const out = decide(request(0, 10), ctx());
      expect(out.status).toBe(200);
      const response = formatAddCheckpointResponse([cosign(formatCheckpoint(cpAt(10)), witness, 1700000000)]);
      const parsed = parseNote(noteAt(10));
      const merged = formatNote({ text: parsed.text, signatures: [...parsed.signatures, ...parseAddCheckpointResponse(response)] });
      expect(appendSignatures(noteAt(10), parseAddCheckpointResponse(response))).toEqual(merged);
      const w = openWitnessedCheckpoint(merged, new VerifierSet([verifierKeyOf(logKey)]), [verifierKeyOf(witness)], { quorum: 1 });
      expect(w.cosignatures.map((c) => [c.name, formatKeyId(c.keyId), c.timestamp])).toEqual([[witness.name, formatKeyId(witness.keyId), 1700000000]]);
    });
  });
});

function concatenate(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
