/**
 * Prefix proofs: an RFC 6962 §2.1.2 consistency proof whose first node is
 * always explicit, so it shows WHICH root a tree has at a smaller size —
 * even when that root is not the one the caller expected (fork.ts,
 * `prefix-conflict`).
 *
 *     prefix proof(m, n) = consistency proof(m, n)                 m not a power of two
 *                        = [MTH(D[0:m])] ‖ consistency proof(m, n)  m a power of two
 *     prefix root        = fr of RFC 9162 §2.1.4.2 over the proof, valid only when
 *                          its sr equals the tree's root and sn ends at 0
 *
 * The standard proof leaves the first node implicit for a power-of-two m and
 * uses the old root there: fine for checking an expected root, useless for
 * learning the real one. With it explicit, sr = root authenticates every
 * node (SHA-256 collision resistance, leaf/node domain separation), and fr
 * folds exactly the complete subtrees of [0, m): the tree's own prefix root.
 *
 * Example: in a tree of 13 leaves, the consistency proof from 8 is
 * [MTH(D[8:13])] and the prefix proof of 8 is [MTH(D[0:8]), MTH(D[8:13])]
 * (prefix root MTH(D[0:8])); from 6 both are [MTH(D[4:6]), MTH(D[6:8]),
 * MTH(D[0:4]), MTH(D[8:13])] (prefix root MTH(MTH(D[0:4]), MTH(D[4:6]))).
 */
import { bytesEqual } from '../encoding.js';
import { fail } from '../errors.js';
import { type Hash, HASH_SIZE, POW2, isTreeSize } from '../merkle/hash.js';
import { type HashReader, treeHash } from '../merkle/tree.js';
import { foldConsistencyPath, proveConsistency } from '../merkle/proof.js';

/**
 * RFC 9162 §2.1.4.2 run on a prefix proof (a consistency proof whose first
 * node is always explicit): the root of the first `oldSize` leaves of the
 * tree (`newSize`, `newRoot`), or undefined unless the proof authenticates
 * under `newRoot`.
 * @example prefixRootFromProof(provePrefixRoot(8, 13, tree), 8, 13, tree.root()) // treeHash(8, tree)
 */
export function prefixRootFromProof(proof: readonly Uint8Array[], oldSize: number, newSize: number, newRoot: Uint8Array): Hash | undefined {
  if (!isTreeSize(oldSize) || !isTreeSize(newSize) || oldSize < 1 || oldSize >= newSize) return undefined;
  if (proof.length === 0 || newRoot.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return undefined;
  const roots = foldConsistencyPath(proof, oldSize, newSize);
  return roots !== undefined && bytesEqual(roots.newRoot, newRoot) ? roots.oldRoot : undefined;
}

/**
 * The prefix proof of the tree's first `oldSize` leaves in its first
 * `newSize` leaves: the RFC 6962 §2.1.2 consistency proof, with MTH of the
 * first `oldSize` leaves prepended when `oldSize` is a power of two (for any
 * other size the two are the same list). Use a `TileReader` over the newer
 * checkpoint's tiles when the log is remote.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 1 ≤ oldSize < newSize.
 */
export function provePrefixRoot(oldSize: number, newSize: number, r: HashReader): Hash[] {
  if (!isTreeSize(newSize) || !(oldSize >= 1 && oldSize < newSize)) fail('TREE_ARGUMENT_INVALID', `prefix proof of ${oldSize} in ${newSize}`);
  const proof = proveConsistency(oldSize, newSize, r);
  return POW2.includes(oldSize) ? [treeHash(oldSize, r), ...proof] : proof;
}
