/** @parley/node — one party's node: the service, its HTTP API and the server. */
export * from './bodies.js';
export * from './service.js';
export * from './witness.js';
export * from './auth.js';
export * from './verifyPool.js';
export * from './http/index.js';
export * from './bundle.js';
export * from './deadlines/index.js';
export * from './federation/index.js';
export * from './runtime.js';
export * from './rollback.js';
export * from './incidents.js';
export * from './received.js';
export * from './skipped.js';
export * from './governance/governance.js';
export * from './tsa/index.js';
