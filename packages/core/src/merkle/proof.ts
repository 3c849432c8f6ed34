/**
 * Inclusion and consistency proofs: generation from stored hashes (RFC 6962
 * §2.1.1 PATH, §2.1.2 PROOF/SUBPROOF, as in golang/mod `sumdb/tlog`) and
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
import { type Hash, HASH_SIZE, isTreeSize, nodeHash, splitPoint } from './hash.js';
import { type HashReader, readChecked, subtreeHash, subtreeIndexes } from './tree.js';

// ---------------------------------------------------------------------------
// Inclusion (RFC 6962 §2.1.1 "Merkle Audit Paths").

/** Stored indexes {@link proveInclusion} reads, in the order it consumes them. */
export function inclusionProofIndexes(treeSize: number, index: number): number[] {
  checkProofArgs(index < treeSize, `leaf ${index} of tree size ${treeSize}`, treeSize, index);
  return leafProofIndexes(0, treeSize, index, []);
}

function leafProofIndexes(lo: number, hi: number, n: number, need: number[]): number[] {
  if (lo + 1 === hi) return need;
  const k = splitPoint(hi - lo);
  if (n < lo + k) {
    leafProofIndexes(lo, lo + k, n, need);
    subtreeIndexes(lo + k, hi, need);
  } else {
    subtreeIndexes(lo, lo + k, need);
    leafProofIndexes(lo + k, hi, n, need);
  }
  return need;
}

/**
 * Builds an inclusion proof from hashes read for {@link inclusionProofIndexes}.
 * @returns the audit path, leaf-side first.
 */
export function inclusionProofFromHashes(treeSize: number, index: number, hashes: readonly Hash[]): Hash[] {
  const proof: Hash[] = [];
  const pos = leafProof(0, treeSize, index, hashes, 0, proof);
  if (pos !== hashes.length) throw new Error('internal: bad index math in inclusion proof');
  return proof;
}

function leafProof(lo: number, hi: number, n: number, hashes: readonly Hash[], pos: number, out: Hash[]): number {
  if (lo + 1 === hi) return pos;
  const k = splitPoint(hi - lo);
  let th: Hash;
  if (n < lo + k) {
    pos = leafProof(lo, lo + k, n, hashes, pos, out);
    [th, pos] = subtreeHash(lo + k, hi, hashes, pos);
  } else {
    [th, pos] = subtreeHash(lo, lo + k, hashes, pos);
    pos = leafProof(lo + k, hi, n, hashes, pos, out);
  }
  out.push(th);
  return pos;
}

/**
 * RFC 6962 §2.1.1: the proof that leaf `index` is in the tree of `treeSize`
 * leaves. Reads O(log n) stored hashes in one call.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 0 ≤ index < treeSize.
 * @example proveInclusion(tree.size, 3, tree)
 */
export function proveInclusion(treeSize: number, index: number, r: HashReader): Hash[] {
  const hashes = readChecked(r, inclusionProofIndexes(treeSize, index));
  return inclusionProofFromHashes(treeSize, index, hashes);
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
  return treeProofIndexes(0, newSize, oldSize, []);
}

function treeProofIndexes(lo: number, hi: number, n: number, need: number[]): number[] {
  if (n === hi) {
    // SUBPROOF(m, D[m], true) is empty; with b = false it is MTH(D[m]).
    return lo === 0 ? need : subtreeIndexes(lo, hi, need);
  }
  const k = splitPoint(hi - lo);
  if (n <= lo + k) {
    treeProofIndexes(lo, lo + k, n, need);
    subtreeIndexes(lo + k, hi, need);
  } else {
    subtreeIndexes(lo, lo + k, need);
    treeProofIndexes(lo + k, hi, n, need);
  }
  return need;
}

/** Builds a consistency proof from hashes read for {@link consistencyProofIndexes}. */
export function consistencyProofFromHashes(oldSize: number, newSize: number, hashes: readonly Hash[]): Hash[] {
  const proof: Hash[] = [];
  const pos = treeProof(0, newSize, oldSize, hashes, 0, proof);
  if (pos !== hashes.length) throw new Error('internal: bad index math in consistency proof');
  return proof;
}

function treeProof(lo: number, hi: number, n: number, hashes: readonly Hash[], pos: number, out: Hash[]): number {
  if (n === hi) {
    if (lo === 0) return pos;
    const [h, next] = subtreeHash(lo, hi, hashes, pos);
    out.push(h);
    return next;
  }
  const k = splitPoint(hi - lo);
  let th: Hash;
  if (n <= lo + k) {
    pos = treeProof(lo, lo + k, n, hashes, pos, out);
    [th, pos] = subtreeHash(lo + k, hi, hashes, pos);
  } else {
    [th, pos] = subtreeHash(lo, lo + k, hashes, pos);
    pos = treeProof(lo + k, hi, n, hashes, pos, out);
  }
  out.push(th);
  return pos;
}

/**
 * RFC 6962 §2.1.2: the proof that the tree of `newSize` leaves extends the
 * tree of `oldSize` leaves. Empty when the sizes are equal.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 1 ≤ oldSize ≤ newSize.
 */
export function proveConsistency(oldSize: number, newSize: number, r: HashReader): Hash[] {
  const hashes = readChecked(r, consistencyProofIndexes(oldSize, newSize));
  return consistencyProofFromHashes(oldSize, newSize, hashes);
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
