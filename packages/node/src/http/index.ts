/** The node's HTTP API: `createServer` and the error codes it can answer with. */
export { createServer, DEFAULT_BODY_LIMIT, type ServerOptions } from './server.js';
export { HTTP_ERRORS, SERVER_SIDE_HTTP_ERRORS, HttpError, apiProblemType, toProblem, type ApiErrorCode, type HttpErrorCode, type Problem } from './problem.js';
export { SESSION_TTL_MS } from './session.js';
export { CONTENT_SECURITY_POLICY, API_PREFIXES } from './web.js';
export { EventHub, type EventHubOptions, type ParleyEvent } from './events.js';
export { PEER_TIMEOUT_MS } from './logs.js';
export { type HardeningOptions, type UploadLimits, UploadGate, DRAIN_MAX_BYTES, DRAIN_MS } from './hardening.js';
