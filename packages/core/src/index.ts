/**
 * @parley/core — Parley's protocol code with no I/O. Runs in Node and in the
 * browser; on Node import `@parley/core/node` instead to use `node:crypto`.
 */
export * from './errors.js';
export * from './encoding.js';
export { getCrypto, setCrypto, sha256 } from './crypto/provider.js';
export { getSealingCrypto } from './crypto/sealing.js';
export type { CryptoProvider, Ed25519Sign, Ed25519Verify, SigningCrypto } from './crypto/provider.js';
export { nobleCrypto } from './crypto/noble.js';
export * from './merkle/index.js';
export * from './cjson.js';
export * from './ijson.js';
export * from './note/key.js';
export * from './note/verifier.js';
export * from './note/note.js';
export * from './note/checkpoint.js';
export * from './note/cosignature.js';
export * from './note/witnessed.js';
export * from './note/witness.js';
export * from './accord/accord.js';
export * from './accord/chain.js';
export * from './accord/epochs.js';
export * from './accord/roles.js';
export type * from './accord/proposal-view.js';
export * from './entry/envelope.js';
export * from './entry/seal.js';
export * from './entry/bodies.js';
export * from './entry/registry.js';
export * from './taxonomy/taxonomy.js';
export * from './envelope/hpke.js';
export * from './envelope/commitment.js';
export * from './federation/bundle.js';
export * from './federation/fork.js';
export * from './federation/request.js';
export * from './federation/prefix.js';
export * from './eval/disclosure.js';
export * from './eval/document.js';
export * from './eval/references.js';
export * from './eval/timeline.js';
export * from './eval/claims-text.js';
export * from './eval/evidence.js';
export * from './eval/intoto.js';
export * from './eval/evidence-verify.js';
