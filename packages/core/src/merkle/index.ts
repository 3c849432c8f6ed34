/** RFC 6962 / RFC 9162 Merkle trees, stored hash indexes, proofs and C2SP tiles. */
export * from './hash.js';
export * from './storedIndex.js';
export * from './tree.js';
export * from './frontier.js';
export * from './proof.js';
export * from './tile.js';
