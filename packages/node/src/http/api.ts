/**
 * /v1: the officers' API. Each handler decodes (schemas run before it),
 * calls one ParleyNode method and shapes the answer; errors are thrown and
 * become problems in the one error handler (problem.ts).
 *
 *     POST   /v1/sessions                     log in (no token)
 *     DELETE /v1/sessions/current             log out
 *     GET    /v1/me
 *     POST   /v1/officers                     admin
 *     POST   /v1/messages                     officer, admin
 *     POST   /v1/reports                      officer, admin
 *     POST   /v1/entries/{party}/{index}/ack  officer, admin
 *     GET    /v1/entries/{party}/{index}
 *     GET    /v1/inbox, /v1/outbox
 *     GET    /v1/accord
 *     POST   /v1/ingest                       admin (federation will add node authentication)
 */
import { MAX_ENTRY_BYTES, fail, parseBase64 } from '@parley/core';
import type { ListQuery } from '@parley/store';
import type { EntryView as EntryViewT, Submitted as SubmittedT } from '../service.js';
import { hashPassword } from '../auth.js';
import { type App, type Context, ADMINS, BEARER, READERS, WRITERS, requireAccordRole } from './context.js';
import { withDeadlines } from './deadlines.js';
import { officerQuery, urgentInbox } from './inbox-order.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';
import { clientAddress } from './forward.js';
import type { StoredAnswer } from '../idempotency.js';

const DEFAULT_LIMIT = 50;

/** The store's ListQuery from the parsed query string (absent filters left out). */
function listQuery(q: { type?: string | undefined; party?: string | undefined; incident?: string | undefined; before?: number | undefined; limit?: number | undefined }): ListQuery {
  return {
    limit: q.limit ?? DEFAULT_LIMIT,
    ...(q.type !== undefined ? { type: q.type } : {}),
    ...(q.party !== undefined ? { party: q.party } : {}),
    ...(q.incident !== undefined ? { incident: q.incident } : {}),
    ...(q.before !== undefined ? { before: q.before } : {}),
  };
}

export function registerApi(app: App, ctx: Context): void {
  const { node, store, sessions, metrics } = ctx;
  const submitted = (s: SubmittedT) => ({ party: node.party, index: s.index, leafHash: s.leafHash, treeSize: s.treeSize, entry: s.entry });
  const location = (index: number) => `/v1/entries/${node.party}/${index}`;
  /** The answer to a write of one entry: 201, its location, the Submitted document (stored with an Idempotency-Key). */
  const created = (subs: readonly SubmittedT[]): StoredAnswer => ({ status: 201, headers: { location: location(subs[0]!.index) }, body: submitted(subs[0]!) });

  app.post('/v1/sessions', {
    bodyLimit: 8 * 1024, // a name and a password: an unauthenticated caller's body stays small
    schema: { tags: ['sessions'], summary: 'Log in: a bearer token for 8 hours', body: S.LoginRequest, response: { 201: S.LoginResponse } },
    handler: async (req, reply) => reply.code(201).header('cache-control', 'no-store').send(await sessions.login(req.body.name, req.body.password, new Date(), clientAddress(req))),
  });

  app.delete('/v1/sessions/current', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['sessions'], summary: 'Log out: revoke this token', security: BEARER },
    handler: async (req, reply) => {
      await sessions.logout(sessions.principal(req));
      return reply.code(204).send();
    },
  });

  app.get('/v1/me', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['sessions'], summary: 'The logged-in officer', security: BEARER, response: { 200: S.MeResponse } },
    handler: async (req) => {
      const p = sessions.principal(req);
      return { name: p.name, role: p.role, expires: p.expires };
    },
  });

  app.post('/v1/officers', {
    onRequest: sessions.require(ADMINS),
    schema: { tags: ['officers'], summary: 'Create an officer (admin)', security: BEARER, body: S.CreateOfficerRequest, response: { 201: S.CreateOfficerResponse } },
    handler: async (req, reply) => {
      const { name, password, role } = req.body;
      if (await store.officer(name)) fail('STORE_CONFLICT', `officer ${name} exists`);
      const created = new Date().toISOString();
      await store.putOfficer({ name, role, passwordHash: await hashPassword(password), created, disabled: false });
      return reply.code(201).send({ name, role, created });
    },
  });

  app.post('/v1/messages', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['entries'], summary: 'Send a hotline message', security: BEARER, body: S.MessageRequest, response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const b = req.body;
      if (b.precedence === 'FLASH') requireAccordRole(node, sessions.principal(req).role, 'flash');
      const officer = sessions.principal(req).name;
      return ctx.idempotency.serve(req, reply, officer, created, async () =>
        created([await metrics.append(() => node.sendMessage(officer, { ...(b.to ? { to: b.to } : {}), precedence: b.precedence, marking: b.marking, text: b.text, ...(b.lang ? { lang: b.lang } : {}) }))]),
      );
    },
  });

  app.post('/v1/reports', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['entries'], summary: 'Send an incident report', security: BEARER, body: S.ReportRequest, response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const b = req.body;
      // A FLASH a red line forces is a duty, not the officer's choice: only an explicit FLASH needs the flash role.
      requireAccordRole(node, sessions.principal(req).role, 'report');
      if (b.precedence === 'FLASH') requireAccordRole(node, sessions.principal(req).role, 'flash');
      const officer = sessions.principal(req).name;
      return ctx.idempotency.serve(req, reply, officer, created, async () =>
        created([
          await metrics.append(() =>
            node.sendReport(officer, {
              ...(b.to ? { to: b.to } : {}),
              ...(b.precedence ? { precedence: b.precedence } : {}),
              marking: b.marking,
              report: b.report,
              ...(b.refs ? { refs: b.refs } : {}),
            }),
          ),
        ]),
      );
    },
  });

  app.post('/v1/entries/:party/:index/ack', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['entries'], summary: 'Acknowledge a received entry', security: BEARER, params: S.EntryParams, body: S.AckRequest.nullish(), response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const { party, index } = req.params;
      if (party === node.party || !(await store.received(party, index))) throw new HttpError('NOT_FOUND', `no entry ${party}/${index} has been received`);
      const text = req.body?.reply;
      const officer = sessions.principal(req).name;
      return ctx.idempotency.serve(req, reply, officer, created, async () =>
        created([await metrics.append(() => node.acknowledge(officer, party, index, text ? { text, ...(req.body?.lang ? { lang: req.body.lang } : {}) } : undefined))]),
      );
    },
  });

  app.get('/v1/entries/:party/:index', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['entries'], summary: 'One entry, own or received, as this role may see it', security: BEARER, params: S.EntryParams, response: { 200: S.EntryView } },
    handler: async (req) => {
      const v = await node.read(req.params.party, req.params.index, sessions.principal(req).role);
      if (!v) throw new HttpError('NOT_FOUND', `no entry ${req.params.party}/${req.params.index} is held here`);
      return v;
    },
  });

  app.get('/v1/inbox', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['entries'], summary: 'Entries received from other parties, newest first (or most urgent first); receipts and heartbeats only with all=1', security: BEARER, querystring: S.ListQuery, response: { 200: S.ListResponse } },
    handler: async (req) => {
      const q = officerQuery(listQuery(req.query), req.query.all === '1' || req.query.all === 'true');
      const role = sessions.principal(req).role;
      const urgency = req.query.order === 'urgency';
      // The store's listing carries the receive-order cursor that the node's views drop.
      const rows = urgency ? await urgentInbox(ctx, q) : await store.inbox(q);
      const items: EntryViewT[] = [];
      for (const r of rows) {
        const v = await node.read(r.party, r.index, role);
        if (v) items.push(v);
      }
      const last = rows[rows.length - 1];
      return { items: await withDeadlines(ctx, items), ...(!urgency && last && rows.length === q.limit ? { next: last.rowid } : {}) };
    },
  });

  app.get('/v1/outbox', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['entries'], summary: 'Entries of this party\u2019s own log, newest first', security: BEARER, querystring: S.ListQuery, response: { 200: S.ListResponse } },
    handler: async (req) => {
      const q = listQuery(req.query);
      const role = sessions.principal(req).role;
      const items = await node.outbox(q, role);
      const last = items[items.length - 1];
      return { items: await withDeadlines(ctx, items, role), ...(last && items.length === q.limit ? { next: last.index } : {}) };
    },
  });

  app.get('/v1/accord', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['channel'], summary: 'The accord this node runs on', security: BEARER, response: { 200: S.AccordResponse } },
    handler: async () => {
      const a = node.accord;
      return {
        id: a.id,
        version: a.version,
        digest: a.digest,
        ...(a.accord.previous !== undefined ? { previous: a.accord.previous } : {}),
        frozen: a.frozen,
        accord: a.accord as unknown as Record<string, unknown>,
        signedBy: [...a.signedBy],
        signatures: a.signatures.map((x) => ({ party: x.party, sig: x.sig, ...((x as { prior?: boolean }).prior === true ? { prior: true as const } : {}) })),
      };
    },
  });

  app.post('/v1/ingest', {
    onRequest: sessions.require(ADMINS),
    schema: { tags: ['federation'], summary: 'Store entries of other parties and receipt them (admin)', security: BEARER, body: S.IngestRequest, response: { 200: S.IngestResponse } },
    handler: async (req) => {
      const entries = req.body.entries.map((s, i) => {
        const bytes = parseBase64(s, `entries[${i}]`);
        if (bytes.length > MAX_ENTRY_BYTES) fail('INPUT_TOO_LARGE', `entries[${i}] is ${bytes.length} bytes`);
        return bytes;
      });
      const r = await node.ingest(entries);
      metrics.ingested.inc(r.accepted);
      for (const s of r.receipts) metrics.appended.inc({ type: s.entry.type });
      return { accepted: r.accepted, duplicates: r.duplicates, receipts: r.receipts.map(submitted) };
    },
  });
}
