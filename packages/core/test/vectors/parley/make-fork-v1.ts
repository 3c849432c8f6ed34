/**
 * Regenerates fork-v1.json: one fork proof of each kind against US's log on
 * the channel of channel-v1.json, and one signed node-to-node request
 * (signing base and Parley-Signature header). Run only when a format
 * changes on purpose:
 *
 *   npx tsx packages/core/test/vectors/parley/make-fork-v1.ts
 *
 * Ed25519 is deterministic, so the file is reproducible;
 * test/parley-fork-proof.test.ts and test/parley-request-auth.test.ts rebuild
 * it with both crypto bindings and compare byte for byte.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  detectFork,
  formatForkProof,
  getCrypto,
  leafConflictProof,
  parseHex,
  prefixConflictProof,
  proveInclusion,
  provePrefixRoot,
  signRequest,
} from '../../../src/index.js';
import { FORK_V1, channel, channelAccord, forkLeaf, forkTree, logKey, usCheckpoint } from '../../helpers/fork.js';

const accord = channelAccord();
const { forkAt, older, newer, cosignedAt } = FORK_V1;
const honest = forkTree(newer);
const forked = forkTree(newer, forkAt);
const olderNote = usCheckpoint(honest, older, cosignedAt);

const sameSize = detectFork(accord, 'US', usCheckpoint(honest, newer, cosignedAt), usCheckpoint(forked, newer))!;
const leaf = leafConflictProof(
  accord,
  'US',
  forkAt,
  { note: olderNote, leafHash: forkLeaf(forkAt, false), proof: proveInclusion(older, forkAt, honest) },
  { note: usCheckpoint(forked, newer), leafHash: forkLeaf(forkAt, true), proof: proveInclusion(newer, forkAt, forked) },
)!;
const prefix = prefixConflictProof(accord, 'US', olderNote, usCheckpoint(forked, newer), provePrefixRoot(older, newer, forked))!;

// The request base is built here by hand from the module doc's layout, not by requestSigningBase.
const r = FORK_V1.request;
const body = parseHex(channel.entry.bytesHex);
const nonce = Buffer.from(r.nonceHex, 'hex').toString('base64url');
const digest = createHash('sha256').update(body).digest('base64');
const base = ['parley/request/v1', accord.id, r.from, r.to, r.method, r.path, String(r.created), nonce, digest].join('\n');
const header = signRequest({ accordId: accord.id, from: r.from, to: r.to, method: r.method, path: r.path, body, signer: getCrypto().ed25519Signer(logKey('US').seed), now: r.created, nonce: parseHex(r.nonceHex) });

const out = {
  description:
    "Parley fork proofs and request signatures v1 (ours), on the channel-v1 accord and keys. US's honest log H has leaves SHA-256(0x00 || \"fork-v1 US entry <i>\"); its forked log F agrees below forkAt and has \"… (rewritten)\" leaves from there. Checkpoints are signed by US's log key; the honest ones are cosigned by CN (cosignature/v1 at cosignedAt). same-size: H and F at `newer`; leaf-conflict: H at `older` and F at `newer`, index forkAt; prefix-conflict: H at `older`, F at `newer` with the prefix proof of `older` in F (older is a power of two, so the first node is explicit). The request is US → CN with channel-v1's entry bytes as its body; its signing base was assembled by hand from the documented layout. Made by make-fork-v1.ts (recipe in test/helpers/fork.ts).",
  input: FORK_V1,
  forks: {
    'same-size': formatForkProof(sameSize),
    'leaf-conflict': formatForkProof(leaf),
    'prefix-conflict': formatForkProof(prefix),
  },
  request: { bodyHex: channel.entry.bytesHex, base, header },
};
writeFileSync(fileURLToPath(new URL('./fork-v1.json', import.meta.url)), `${JSON.stringify(out, null, 2)}\n`);
console.log(out.forks['leaf-conflict']);
console.log(base);
console.log(header);
