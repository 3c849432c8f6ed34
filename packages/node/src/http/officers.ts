/**
 * Officer administration and one's own password (issue 9):
 *
 *     GET  /v1/officers                     admin   every officer: name, role, created, disabled
 *     POST /v1/officers/{name}/disable      admin   the officer's tokens stop working at once
 *     POST /v1/officers/{name}/enable       admin
 *     POST /v1/officers/{name}/password     admin   a new password (a forgotten one); revokes their sessions
 *     POST /v1/me/password                  anyone logged in: {current, password}; revokes their other sessions
 *
 * POST /v1/officers (create) stays in api.ts. Session logic is session.ts's.
 */
import { z } from 'zod';
import { type App, type Context, ADMINS, BEARER, READERS } from './context.js';
import { MIN_PASSWORD } from '../auth.js';
import * as S from './schemas.js';
import { clientAddress } from './forward.js';

const Name = z.object({ name: S.OfficerName });
const OfficerState = z.object({ name: z.string(), role: S.Role, disabled: z.boolean(), sessionsRevoked: z.number().int().describe('Sessions of the officer deleted by this change') });
const NewPassword = z.string().min(MIN_PASSWORD).max(1024);

export function registerOfficers(app: App, ctx: Context): void {
  const { store, sessions } = ctx;

  app.get('/v1/officers', {
    onRequest: sessions.require(ADMINS),
    schema: {
      tags: ['officers'],
      summary: 'List officers (admin)',
      security: BEARER,
      response: { 200: z.object({ officers: z.array(z.object({ name: z.string(), role: S.Role, created: z.string(), disabled: z.boolean() })) }) },
    },
    handler: async () => ({ officers: (await store.officers()).map(({ name, role, created, disabled }) => ({ name, role, created, disabled })) }),
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(`/v1/officers/:name/${action}`, {
      onRequest: sessions.require(ADMINS),
      schema: {
        tags: ['officers'],
        summary: disabled ? 'Disable an officer (admin): their sessions end and they cannot log in' : 'Enable a disabled officer (admin)',
        security: BEARER,
        params: Name,
        response: { 200: OfficerState },
      },
      handler: async (req) => sessions.administer(sessions.principal(req), req.params.name, { disabled }),
    });
  }

  app.post('/v1/officers/:name/password', {
    onRequest: sessions.require(ADMINS),
    schema: {
      tags: ['officers'],
      summary: 'Set an officer\u2019s password (admin); their sessions end',
      security: BEARER,
      params: Name,
      body: z.object({ password: NewPassword }).strict(),
      response: { 200: OfficerState },
    },
    handler: async (req) => sessions.administer(sessions.principal(req), req.params.name, { password: req.body.password }),
  });

  app.post('/v1/me/password', {
    onRequest: sessions.require(READERS),
    // A small body: no one's password is a megabyte.
    bodyLimit: 8 * 1024,
    schema: {
      tags: ['sessions'],
      summary: 'Change your own password (your other sessions end)',
      description: '403 PASSWORD_WRONG for a wrong current password, which counts as a failed login (429 LOGIN_THROTTLED after too many).',
      security: BEARER,
      body: z.object({ current: z.string().min(1).max(1024), password: NewPassword }).strict(),
      response: { 200: z.object({ name: z.string(), sessionsRevoked: z.number().int() }) },
    },
    handler: async (req) => {
      const p = sessions.principal(req);
      return { name: p.name, sessionsRevoked: await sessions.changePassword(p, req.body.current, req.body.password, clientAddress(req)) };
    },
  });
}
