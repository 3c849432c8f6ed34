/**
 * Inclusion and consistency proofs: generation from stored hashes (RFC 6962
 * §2.1.1 PATH, §2.1.2 PROOF/SUBPROOF) and
 * verification (RFC 9162 §2.1.3.2 and §2.1.4.2).
 *
 * A proof is a list of 32-byte hashes, ordered from the leaf (or the old
 * tree) upwards, exactly as RFC 9162 and the C2SP formats carry them.
 *
 * Verification has one failure: `PROOF_INVALID`, with no hint at which hash
 * was wrong (STYLE.md §7). Edge-case policy, matching transparency-dev/merkle
 * `proof/verify.go` (and so every probe in its testdata):
 * - inclusion: index ≥ size fails; a leaf hash or root that is not 32 bytes fails;
 * - consistency: new size < old size fails; old size 0 fails (a proof from the
 *   empty tree is meaningless — tlog-witness handles old size 0 itself);
 *   equal sizes need an empty proof and byte-equal roots; otherwise an empty
 *   proof fails.
 */
import { fail } from '../errors.js';
import { bytesEqual } from '../encoding.js';
import { type Hash, HASH_SIZE, POW2, isTreeSize, nodeHash } from './hash.js';
import { storedHashIndex } from './storedIndex.js';
import { type HashReader, readChecked, subtreeIndexes } from './tree.js';

// ---------------------------------------------------------------------------
// Generation. Both proofs are a walk up from one node to the root of the tree
// (after transparency-dev/merkle `proof.Inclusion`/`Consistency`): at each
// height, the sibling of the node on the path is either a complete subtree
// (one stored hash), or, once, the "ephemeral" right-border subtree [c, size)
// whose hash is rebuilt from its complete subtrees, or absent (the path runs
// along the right border). This yields RFC 6962 §2.1.1 PATH and §2.1.2 PROOF
// exactly (test/merkle-properties.test.ts checks them against the RFC's
// recursive definitions) while reading each needed hash once.

/**
 * The stored indexes a proof reads (`need`) and, per proof hash, how many of
 * them it folds together (`counts`: 1 for a stored hash, k for a subtree
 * rebuilt from k complete subtrees).
 */
interface ProofPlan {
  readonly need: number[];
  readonly counts: number[];
}

/** Plans the hashes showing node (level, index) is in the tree of `size` leaves, from the node upwards. */
function planPath(level: number, index: number, size: number, plan: ProofPlan): ProofPlan {
  const { need, counts } = plan;
  let width = POW2[level]!;
  for (let i = index; !(i === 0 && width >= size); i = Math.floor(i / 2), width *= 2, level++) {
    if (i % 2 === 1) {
      // Left sibling: always complete, it ends where this node starts.
      need.push(storedHashIndex(level, i - 1));
      counts.push(1);
      continue;
    }
    const c = (i + 1) * width; // right sibling covers [c, c + width)
    if (c >= size) continue; // right border: no sibling at this height
    if (c + width <= size) {
      need.push(storedHashIndex(level, i + 1));
      counts.push(1);
    } else {
      // The ephemeral right-border subtree [c, size).
      const before = need.length;
      subtreeIndexes(c, size, need);
      counts.push(need.length - before);
    }
  }
  return plan;
}

/** Number of trailing zero bits of n ≥ 1. */
function trailingZeros(n: number): number {
  let z = 0;
  while (n % 2 === 0) {
    n /= 2;
    z++;
  }
  return z;
}

function planConsistency(oldSize: number, newSize: number): ProofPlan {
  const plan: ProofPlan = { need: [], counts: [] };
  if (oldSize === newSize) return plan;
  // The old tree's last complete subtree (level, index); the proof is that
  // node (omitted when it is the whole old tree) and its path in the new tree.
  const level = trailingZeros(oldSize);
  const index = oldSize / POW2[level]! - 1;
  if (index !== 0) {
    plan.need.push(storedHashIndex(level, index));
    plan.counts.push(1);
  }
  return planPath(level, index, newSize, plan);
}

function planInclusion(treeSize: number, index: number): ProofPlan {
  return planPath(0, index, treeSize, { need: [], counts: [] });
}

function partHashes(counts: readonly number[], hashes: readonly Hash[]): Hash[] {
  const proof: Hash[] = [];
  let pos = 0;
  for (const count of counts) {
    // A range's complete subtrees are listed left to right, largest first:
    // fold them right to left (RFC 6962 §2.1 split).
    let h = hashes[pos + count - 1]!;
    for (let i = pos + count - 2; i >= pos; i--) h = nodeHash(hashes[i]!, h);
    proof.push(h);
    pos += count;
  }
  if (pos !== hashes.length) throw new Error('internal: bad index math in proof');
  return proof;
}

// ---------------------------------------------------------------------------
// Inclusion (RFC 6962 §2.1.1 "Merkle Audit Paths").

/** Stored indexes {@link proveInclusion} reads, in the order it consumes them. */
export function inclusionProofIndexes(treeSize: number, index: number): number[] {
  checkProofArgs(index < treeSize, `leaf ${index} of tree size ${treeSize}`, treeSize, index);
  return planInclusion(treeSize, index).need;
}

/**
 * Builds an inclusion proof from hashes read for {@link inclusionProofIndexes}.
 * @returns the audit path, leaf-side first.
 */
export function inclusionProofFromHashes(treeSize: number, index: number, hashes: readonly Hash[]): Hash[] {
  return partHashes(planInclusion(treeSize, index).counts, hashes);
}

/**
 * RFC 6962 §2.1.1: the proof that leaf `index` is in the tree of `treeSize`
 * leaves. Reads O(log n) stored hashes in one call.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 0 ≤ index < treeSize.
 * @example proveInclusion(tree.size, 3, tree)
 */
export function proveInclusion(treeSize: number, index: number, r: HashReader): Hash[] {
  checkProofArgs(index < treeSize, `leaf ${index} of tree size ${treeSize}`, treeSize, index);
  const { need, counts } = planInclusion(treeSize, index);
  return partHashes(counts, readChecked(r, need));
}

/**
 * RFC 9162 §2.1.3.2: the root implied by an inclusion proof, or undefined if
 * the proof has the wrong shape.
 */
export function rootFromInclusionProof(
  proof: readonly Uint8Array[],
  treeSize: number,
  index: number,
  leaf: Uint8Array,
): Hash | undefined {
  if (!isTreeSize(treeSize) || !isTreeSize(index) || index >= treeSize) return undefined;
  if (leaf.length !== HASH_SIZE) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r: Hash = leaf;
  for (const p of proof) {
    if (sn === 0 || p.length !== HASH_SIZE) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // Skip the levels where this node has no right sibling.
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/**
 * RFC 9162 §2.1.3.2: true when `proof` shows leaf hash `leaf` at `index` in
 * the tree of `treeSize` leaves with root `root`.
 */
export function verifyInclusion(
  proof: readonly Uint8Array[],
  treeSize: number,
  root: Uint8Array,
  index: number,
  leaf: Uint8Array,
): boolean {
  const r = rootFromInclusionProof(proof, treeSize, index, leaf);
  return r !== undefined && root.length === HASH_SIZE && bytesEqual(r, root);
}

/**
 * Like {@link verifyInclusion} but throws.
 * @throws VerificationError `PROOF_INVALID`.
 */
export function checkInclusion(
  proof: readonly Uint8Array[],
  treeSize: number,
  root: Uint8Array,
  index: number,
  leaf: Uint8Array,
): void {
  if (!verifyInclusion(proof, treeSize, root, index, leaf)) fail('PROOF_INVALID', 'inclusion proof does not verify');
}

// ---------------------------------------------------------------------------
// Consistency (RFC 6962 §2.1.2 "Merkle Consistency Proofs").

/** Stored indexes {@link proveConsistency} reads, in the order it consumes them. */
export function consistencyProofIndexes(oldSize: number, newSize: number): number[] {
  checkProofArgs(oldSize >= 1 && oldSize <= newSize, `old size ${oldSize}, new size ${newSize}`, oldSize, newSize);
  return planConsistency(oldSize, newSize).need;
}

/** Builds a consistency proof from hashes read for {@link consistencyProofIndexes}. */
export function consistencyProofFromHashes(oldSize: number, newSize: number, hashes: readonly Hash[]): Hash[] {
  return partHashes(planConsistency(oldSize, newSize).counts, hashes);
}

/**
 * RFC 6962 §2.1.2: the proof that the tree of `newSize` leaves extends the
 * tree of `oldSize` leaves. Empty when the sizes are equal.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 1 ≤ oldSize ≤ newSize.
 */
export function proveConsistency(oldSize: number, newSize: number, r: HashReader): Hash[] {
  checkProofArgs(oldSize >= 1 && oldSize <= newSize, `old size ${oldSize}, new size ${newSize}`, oldSize, newSize);
  const { need, counts } = planConsistency(oldSize, newSize);
  return partHashes(counts, readChecked(r, need));
}

/**
 * RFC 9162 §2.1.4.2: true when `proof` shows that the tree (`newSize`,
 * `newRoot`) extends the tree (`oldSize`, `oldRoot`). See the module doc for
 * the edge-case policy.
 */
export function verifyConsistency(
  proof: readonly Uint8Array[],
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!isTreeSize(oldSize) || !isTreeSize(newSize) || newSize < oldSize || oldSize === 0) return false;
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (proof.length === 0 || oldRoot.length !== HASH_SIZE || newRoot.length !== HASH_SIZE) return false;
  for (const p of proof) if (p.length !== HASH_SIZE) return false;

  // If the old tree is a complete subtree, its root is the proof's implicit first node.
  const roots = foldConsistencyPath(isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof, oldSize, newSize);
  return roots !== undefined && bytesEqual(roots.oldRoot, oldRoot) && bytesEqual(roots.newRoot, newRoot);
}

/**
 * The fold of RFC 9162 §2.1.4.2 over a consistency path whose first node is
 * explicit (the old tree's last complete subtree): the two roots it implies,
 * or undefined when the path has the wrong shape. Hashes must be 32 bytes and
 * 0 < oldSize < newSize (callers check). Shared by {@link verifyConsistency}
 * and prefix proofs (federation/prefix.ts), so there is one implementation.
 */
export function foldConsistencyPath(path: readonly Uint8Array[], oldSize: number, newSize: number): { oldRoot: Hash; newRoot: Hash } | undefined {
  if (path.length === 0) return undefined;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // Start at the old tree's last complete subtree: the first node.
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      // c is a left sibling: inside the old tree, so it enters both roots.
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? { oldRoot: fr, newRoot: sr } : undefined;
}

/**
 * Like {@link verifyConsistency} but throws.
 * @throws VerificationError `PROOF_INVALID`.
 */
export function checkConsistency(
  proof: readonly Uint8Array[],
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): void {
  if (!verifyConsistency(proof, oldSize, newSize, oldRoot, newRoot)) {
    fail('PROOF_INVALID', 'consistency proof does not verify');
  }
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function checkProofArgs(ok: boolean, what: string, ...sizes: number[]): void {
  if (!ok || !sizes.every(isTreeSize)) fail('TREE_ARGUMENT_INVALID', `invalid proof request: ${what}`);
}
