/** What every route module gets: the node, its store, sessions and metrics, and the typed app. */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LogStore, Role } from '@parley/store';
import type { ParleyNode } from '../service.js';
import type { Metrics } from './metrics.js';
import type { Sessions } from './session.js';
import type { UploadGate } from './hardening.js';
import type { IdempotencyKeys } from './idempotency.js';
import { type RoleAction, permits, rolesOf } from '@parley/core';
import { HttpError } from './problem.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface Context {
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly sessions: Sessions;
  readonly metrics: Metrics;
  /** Upload slots and pre-body checks of the upload routes (hardening.ts). */
  readonly uploads: UploadGate;
  /** Idempotency-Key handling of the writes that append (idempotency.ts, issue 14). */
  readonly idempotency: IdempotencyKeys;
}

/** Who may call what: auditors read, officers act, admins administer. */
export const READERS: readonly Role[] = ['officer', 'auditor', 'admin'];
export const WRITERS: readonly Role[] = ['officer', 'admin'];
export const ADMINS: readonly Role[] = ['admin'];

/** OpenAPI security requirement for bearer-token routes. */
export const BEARER = [{ bearer: [] }];

const ACTION_WORDS: Readonly<Record<RoleAction, string>> = { flash: 'send FLASH', report: 'send incident reports', amend: 'propose or approve accord amendments' };

/**
 * Officers' roles by accord (issue 11, core roles.ts): the version in force
 * says which roles may take a channel-wide action, and this node enforces it
 * for its own officers — on top of the route's own role check.
 * @throws HttpError `FORBIDDEN` (403) naming the roles the accord allows.
 */
export function requireAccordRole(node: ParleyNode, role: Role, action: RoleAction): void {
  const a = node.accord;
  if (permits(a.accord, role, action)) return;
  throw new HttpError('FORBIDDEN', `accord version ${a.version} lets only ${rolesOf(a.accord)[action].join(' and ')} officers ${ACTION_WORDS[action]}; this officer's role is ${role}`);
}
