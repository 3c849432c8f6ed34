/**
 * in-toto / DSSE (src/eval/intoto.ts): PAE against the DSSE specification's
 * worked example (test/vectors/eval/dsse-pae.json); an evaluation Statement
 * signed by two parties' log keys, merged, verified against the accord's
 * keys; every tampering is DSSE_INVALID.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DSSE_PAYLOAD_TYPE,
  EVALUATION_PROVABILITY,
  IN_TOTO_STATEMENT_TYPE,
  PARLEY_EVALUATION_PREDICATE,
  canonicalize,
  decodeUtf8,
  dsseKeyId,
  dsseKeysOf,
  dsseSigner,
  encodeUtf8,
  evaluationStatement,
  formatBase64,
  formatDsse,
  mergeDsse,
  pae,
  parseBase64,
  signDsse,
  verifierKeyOf,
  verifyDsse,
} from '../src/index.js';
import { VerificationError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';
import { MODEL, accord, keys } from './helpers/evaluation.js';

const PAE = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'eval/dsse-pae.json'), 'utf8')) as { vectors: { id: string; payloadType: string; payload_utf8: string; pae_utf8: string }[] };

const STATEMENT = evaluationStatement({
  model: MODEL,
  stage: 'report',
  domains: ['CBRN'],
  claims: { evaluator: 'Example Institute', redLines: { cbrn: { outcome: 'below' } } },
  commitment: { party: 'US', index: 0, leafHash: 'A'.repeat(43) + '=', checkpointSize: 4 },
  notice: { party: 'US', index: 2, leafHash: 'B'.repeat(43) + '=', deployedAt: '2026-11-20T00:00:00Z' },
  timeline: { committedBefore: true, days: 18, deployedAt: '2026-11-20T00:00:00Z', marginSeconds: 1_638_000, provenBy: '2026-11-01T01:00:00.000Z' },
});

for (const p of providers) {
  describe(`DSSE (${p.name})`, () => {
    useProvider(p);

    for (const v of PAE.vectors) {
      it(`PAE byte for byte: ${v.id}`, () => {
        expect(decodeUtf8(pae(v.payloadType, encodeUtf8(v.payload_utf8)))).toBe(v.pae_utf8);
      });
    }
    it('PAE counts bytes, not characters', () => {
      expect(decodeUtf8(pae('t', encodeUtf8('é')))).toBe('DSSEv1 1 t 2 é');
    });

    it('builds the in-toto Statement v1 with the model as subject and the provability text', () => {
      expect(STATEMENT._type).toBe(IN_TOTO_STATEMENT_TYPE);
      expect(STATEMENT.predicateType).toBe(PARLEY_EVALUATION_PREDICATE);
      expect(STATEMENT.subject).toEqual([{ name: 'frontier-1', digest: { sha256: 'ef'.repeat(32) } }]);
      expect(STATEMENT.predicate['provability']).toEqual(EVALUATION_PROVABILITY.map((x) => x.en));
      assertThrowsCode(() => evaluationStatement({ model: { id: 'm', digest: 'md5:00' }, stage: 'report', domains: [], claims: {}, commitment: { party: 'US', index: 0, leafHash: '', checkpointSize: 1 } }), VerificationError, 'DSSE_INVALID');
    });

    it('signs with two parties, merges, and verifies against the accord keys', () => {
      const us = signDsse(STATEMENT, dsseSigner('US', keys.US));
      const cn = signDsse(STATEMENT, dsseSigner('CN', keys.CN));
      expect(us.payloadType).toBe(DSSE_PAYLOAD_TYPE);
      expect(decodeUtf8(parseBase64(us.payload))).toBe(canonicalize(STATEMENT));
      expect(us.signatures[0]!.keyid).toBe(dsseKeyId('US', verifierKeyOf(keys.US)));
      expect(us.signatures[0]!.keyid).toMatch(/^US:us\.parley\.example\/log\+[0-9a-f]{8}$/);
      const both = mergeDsse(formatDsse(us), cn, us);
      expect(both.signatures.map((s) => s.keyid.split(':')[0])).toEqual(['CN', 'US']);
      const r = verifyDsse(formatDsse(both), dsseKeysOf([accord]));
      expect(r.signedBy.sort()).toEqual([dsseKeyId('CN', verifierKeyOf(keys.CN)), dsseKeyId('US', verifierKeyOf(keys.US))]);
      expect(r.statement).toEqual(STATEMENT);
      expect(r.unknown).toEqual([]);
    });

    it('refuses tampering, unknown-only signers, malformed envelopes and merges over different payloads (DSSE_INVALID)', () => {
      const env = mergeDsse(signDsse(STATEMENT, dsseSigner('US', keys.US)), signDsse(STATEMENT, dsseSigner('CN', keys.CN)));
      const k = dsseKeysOf([accord]);
      const payload = parseBase64(env.payload);
      payload[10]! ^= 1;
      assertThrowsCode(() => verifyDsse({ ...env, payload: formatBase64(payload) }, k), VerificationError, 'DSSE_INVALID');
      assertThrowsCode(() => verifyDsse({ ...env, payloadType: 'application/json' }, k), VerificationError, 'DSSE_INVALID');
      const sig = parseBase64(env.signatures[1]!.sig);
      sig[0]! ^= 1;
      assertThrowsCode(() => verifyDsse({ ...env, signatures: [env.signatures[0]!, { ...env.signatures[1]!, sig: formatBase64(sig) }] }, k), VerificationError, 'DSSE_INVALID');
      // A signature by a key the verifier does not know proves nothing.
      const stranger = verifyDsse.bind(null, { ...env, signatures: env.signatures.map((s) => ({ ...s, keyid: `EU:${s.keyid}` })) }, k);
      assertThrowsCode(stranger, VerificationError, 'DSSE_INVALID');
      for (const bad of ['{}', 'null', '{"payloadType":"x","payload":"not b64","signatures":[]}', canonicalize({ ...env, extra: 1 }), canonicalize({ ...env, signatures: [{ keyid: 'x' }] })]) {
        assertThrowsCode(() => verifyDsse(bad, k), VerificationError, 'DSSE_INVALID');
      }
      const other = signDsse(encodeUtf8('{"other":1}'), dsseSigner('CN', keys.CN));
      assertThrowsCode(() => mergeDsse(env, other), VerificationError, 'DSSE_INVALID');
      assertThrowsCode(() => mergeDsse(), VerificationError, 'DSSE_INVALID');
      // A payload that is not an in-toto Statement under the in-toto type.
      assertThrowsCode(() => verifyDsse(signDsse(encodeUtf8('{"_type":"x"}'), dsseSigner('US', keys.US)), k), VerificationError, 'DSSE_INVALID');
    });
  });
}
