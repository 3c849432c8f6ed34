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
import { type Hash, HASH_SIZE, isTreeSize, nodeHash } from './hash.js';
import { storedHashIndex } from './storedIndex.js';
import { type HashReader, readChecked, subtreeHash, subtreeIndexes } from './tree.js';

// ---------------------------------------------------------------------------
// Generation. Both proofs are a walk up from one node to the root of the tree
// (after transparency-dev/merkle `proof.Inclusion`/`Consistency`): at each
// height, the sibling of the node on the path is either a complete subtree
// (one stored hash), or, once, the "ephemeral" right-border subtree [c, size)
// whose hash is rebuilt from its complete subtrees, or absent (the path runs
// along the right border). This yields RFC 6962 §2.1.1 PATH and §2.1.2 PROOF
// exactly (test/merkle-properties.test.ts checks them against the RFC's
// recursive definitions) while reading each needed hash once.

/** One proof hash: a stored hash, or the hash of leaves [lo, hi) rebuilt from stored hashes. */
type ProofPart = { readonly stored: number } | { readonly lo: number; readonly hi: number };

/** Proof parts showing node (level, index) is in the tree of `size` leaves, from the node upwards. */
function pathParts(level: number, index: number, size: number, parts: ProofPart[]): ProofPart[] {
  let width = 2 ** level;
  for (let i = index; !(i === 0 && width >= size); i = Math.floor(i / 2), width *= 2, level++) {
    if (i % 2 === 1) {
      // Left sibling: always complete, it ends where this node starts.
      parts.push({ stored: storedHashIndex(level, i - 1) });
      continue;
    }
    const c = (i + 1) * width; // right sibling covers [c, c + width)
    if (c >= size) continue; // right border: no sibling at this height
    parts.push(c + width <= size ? { stored: storedHashIndex(level, i + 1) } : { lo: c, hi: size });
  }
  return parts;
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

function consistencyParts(oldSize: number, newSize: number): ProofPart[] {
  if (oldSize === newSize) return [];
  // The old tree's last complete subtree (level, index); the proof is that
  // node (omitted when it is the whole old tree) and its path in the new tree.
  const level = trailingZeros(oldSize);
  const index = oldSize / 2 ** level - 1;
  const parts: ProofPart[] = index === 0 ? [] : [{ stored: storedHashIndex(level, index) }];
  return pathParts(level, index, newSize, parts);
}

function partIndexes(parts: readonly ProofPart[]): number[] {
  const need: number[] = [];
  for (const p of parts) {
    if ('stored' in p) need.push(p.stored);
    else subtreeIndexes(p.lo, p.hi, need);
  }
  return need;
}

function partHashes(parts: readonly ProofPart[], hashes: readonly Hash[]): Hash[] {
  const proof: Hash[] = [];
  let pos = 0;
  for (const p of parts) {
    if ('stored' in p) {
      proof.push(hashes[pos++]!);
    } else {
      let h: Hash;
      [h, pos] = subtreeHash(p.lo, p.hi, hashes, pos);
      proof.push(h);
    }
  }
  if (pos !== hashes.length) throw new Error('internal: bad index math in proof');
  return proof;
}

// ---------------------------------------------------------------------------
// Inclusion (RFC 6962 §2.1.1 "Merkle Audit Paths").

/** Stored indexes {@link proveInclusion} reads, in the order it consumes them. */
export function inclusionProofIndexes(treeSize: number, index: number): number[] {
  checkProofArgs(index < treeSize, `leaf ${index} of tree size ${treeSize}`, treeSize, index);
  return partIndexes(pathParts(0, index, treeSize, []));
}

/**
 * Builds an inclusion proof from hashes read for {@link inclusionProofIndexes}.
 * @returns the audit path, leaf-side first.
 */
export function inclusionProofFromHashes(treeSize: number, index: number, hashes: readonly Hash[]): Hash[] {
  return partHashes(pathParts(0, index, treeSize, []), hashes);
}

/**
 * RFC 6962 §2.1.1: the proof that leaf `index` is in the tree of `treeSize`
 * leaves. Reads O(log n) stored hashes in one call.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 0 ≤ index < treeSize.
 * @example proveInclusion(tree.size, 3, tree)
 */
export function proveInclusion(treeSize: number, index: number, r: HashReader): Hash[] {
  checkProofArgs(index < treeSize, `leaf ${index} of tree size ${treeSize}`, treeSize, index);
  const parts = pathParts(0, index, treeSize, []);
  return partHashes(parts, readChecked(r, partIndexes(parts)));
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
  return partIndexes(consistencyParts(oldSize, newSize));
}

/** Builds a consistency proof from hashes read for {@link consistencyProofIndexes}. */
export function consistencyProofFromHashes(oldSize: number, newSize: number, hashes: readonly Hash[]): Hash[] {
  return partHashes(consistencyParts(oldSize, newSize), hashes);
}

/**
 * RFC 6962 §2.1.2: the proof that the tree of `newSize` leaves extends the
 * tree of `oldSize` leaves. Empty when the sizes are equal.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 1 ≤ oldSize ≤ newSize.
 */
export function proveConsistency(oldSize: number, newSize: number, r: HashReader): Hash[] {
  checkProofArgs(oldSize >= 1 && oldSize <= newSize, `old size ${oldSize}, new size ${newSize}`, oldSize, newSize);
  const parts = consistencyParts(oldSize, newSize);
  return partHashes(parts, readChecked(r, partIndexes(parts)));
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
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
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
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
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
