/** What every route module gets: the node, its store, sessions and metrics, and the typed app. */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LogStore, Role } from '@parley/store';
import type { ParleyNode } from '../service.js';
import type { Metrics } from './metrics.js';
import type { Sessions } from './session.js';
import type { UploadGate } from './hardening.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface Context {
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly sessions: Sessions;
  readonly metrics: Metrics;
  /** Upload slots and pre-body checks of the upload routes (hardening.ts). */
  readonly uploads: UploadGate;
}

/** Who may call what: auditors read, officers act, admins administer. */
export const READERS: readonly Role[] = ['officer', 'auditor', 'admin'];
export const WRITERS: readonly Role[] = ['officer', 'admin'];
export const ADMINS: readonly Role[] = ['admin'];

/** OpenAPI security requirement for bearer-token routes. */
export const BEARER = [{ bearer: [] }];
