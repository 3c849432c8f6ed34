/** RFC 3161 trusted time for checkpoints (issue 12): stamping, fetching, verifying, serving. */
export * from './client.js';
export * from './stamper.js';
export * from './peers.js';
export * from './verify.js';
export * from './held.js';
export * from './stats.js';
export * from './bounds.js';
