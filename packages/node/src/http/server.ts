/**
 * The node's HTTP server: fastify with zod schemas at the boundary, one error
 * handler that answers RFC 9457 problems, OpenAPI 3.1 generated from the same
 * schemas, Prometheus metrics and a health check.
 *
 *     GET /openapi.json   OpenAPI 3.1 (components: every entry body schema, Problem)
 *     GET /docs           browsable API (swagger-ui)
 *     GET /metrics        Prometheus text format
 *     GET /healthz
 *     GET /v1/sequencer   which process of the party is its sequencer (issue 14, forward.ts)
 *     /v1/…               officers' API (api.ts), deadlines and links (deadlines.ts),
 *                         bundles (bundles.ts), forks, live events (events.ts),
 *                         incidents and compliance (incidents.ts), any party's log (logs.ts)
 *                         accord chain and amendments (governance.ts)
 *     /log/…              the public log (log.ts)
 *     /taxii2/…           TAXII 2.1, read-only: incidents as STIX 2.1 (taxii.ts)
 *     /witness/…          C2SP tlog-witness for the other parties' logs (witness.ts)
 *     /fed/v1/…           node to node, every request signed (federation.ts)
 *     /, /assets/…        the dashboard, when a `webRoot` is given (web.ts)
 *
 * Request pipeline: onRequest (authentication and role, before any body is
 * read) → body parser (JSON, except where a route declares its own: text on
 * the tlog-witness route, application/octet-stream for bundles; any other
 * Content-Type is a 415; larger than the route's body limit is a 413) → zod
 * validation (400 with the issue paths) → handler → ParleyNode. A request
 * rejected at any step has written nothing.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { type ZodTypeProvider, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LogStore } from '@parley/store';
import { BODY_SCHEMAS } from '../bodies.js';
import type { ParleyNode } from '../service.js';
import { registerApi } from './api.js';
import { registerBundles } from './bundles.js';
import type { App, Context } from './context.js';
import { registerFederation } from './federation.js';
import { registerForks } from './forks.js';
import { registerDeadlines } from './deadlines.js';
import { registerLog } from './log.js';
import { Metrics } from './metrics.js';
import { IDEMPOTENCY_PRUNE_MS, IdempotencyKeys } from './idempotency.js';
import { HttpError, Problem, toProblem } from './problem.js';
import * as S from './schemas.js';
import { Sessions } from './session.js';
import { registerOfficers } from './officers.js';
import { registerWitness } from './witness.js';
import { type EventHubOptions, CheckpointEvent, DeadlineEvent, EntryEvent, ForkEvent, LinkEvent, ResetEvent, registerEvents } from './events.js';
import { registerIncidents } from './incidents.js';
import { registerStix } from './stix.js';
import { registerImports } from './imports.js';
import { registerLinks } from './links.js';
import { registerLogs } from './logs.js';
import { registerContinuity } from './continuity.js';
import { registerGovernance } from './governance.js';
import { registerEvaluations } from './evaluations.js';
import { registerRetractions } from './retractions.js';
import { checkWebRoot, registerWeb } from './web.js';
import { TAXII_MEDIA_TYPE, registerTaxii, taxiiBytes, taxiiError } from './taxii.js';
import { type HardeningOptions, UploadGate, drainTooLarge, registerHardening } from './hardening.js';
import { type SequencerView, registerForward } from './forward.js';
import { Gauge } from 'prom-client';
import { READERS, BEARER } from './context.js';

/** Default request body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface ServerOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  /** fastify's pino logger: false (default), true, or pino options. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body in bytes (default {@link DEFAULT_BODY_LIMIT}). */
  readonly bodyLimit?: number;
  /** A built web app (index.html, assets/) to serve on this origin: the dashboard (web.ts). */
  readonly webRoot?: string;
  /** Peer base URLs by party, for the log explorer (default: the accord's). */
  readonly peerUrls?: Readonly<Record<string, string>>;
  /** GET /v1/events: keepalive interval and most open streams. */
  readonly events?: EventHubOptions;
  /** Security headers, /metrics and /docs access, upload caps (hardening.ts). */
  readonly hardening?: HardeningOptions;
  /**
   * This process's side of the sequencer election, when several processes
   * serve the party from one PostgreSQL database (issue 14): while it is a
   * follower, every write is forwarded to the sequencer (forward.ts).
   */
  readonly sequencer?: SequencerView;
}

/**
 * Builds the node's HTTP server (not listening: call `listen`, or `inject` in tests).
 * The node and store stay the caller's to close.
 */
export async function createServer(opts: ServerOptions): Promise<FastifyInstance> {
  const onError = (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    let { problem, headers, internal } = toProblem(err);
    if (internal) req.log.error({ err }, 'internal error');
    if (problem.code === 'INPUT_TOO_LARGE' && (err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = req.routeOptions.bodyLimit ?? opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
      problem = { ...problem, detail: `the request body is larger than ${limit} bytes, the most ${req.method} ${req.routeOptions.url ?? req.url} takes`, limit };
      drainTooLarge(req, reply);
    }
    // TAXII clients read TAXII's error resource (TAXII 2.1 §3.6.1): the same problem, with its members added.
    if (req.url.startsWith('/taxii2/') && problem.code !== 'NOT_ACCEPTABLE') return reply.code(problem.status).headers(headers).header('content-type', TAXII_MEDIA_TYPE).send(taxiiBytes(taxiiError(problem)));
    return reply.code(problem.status).headers(headers).type('application/problem+json').send(JSON.stringify(problem));
  };
  const app = Fastify({
    logger: opts.logger ?? false,
    // The router's own refusals (a path that does not percent-decode, a parameter longer than it takes)
    // are problems like every other 4xx, not fastify's bare JSON.
    frameworkErrors: (err, req, reply) => void onError(err, req, reply),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ...(opts.hardening?.trustProxy !== undefined ? { trustProxy: opts.hardening.trustProxy } : {}),
  }).withTypeProvider<ZodTypeProvider>() as App;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON is the only request body the API takes: without this parser text/plain would reach the schemas as a string.
  app.removeContentTypeParser('text/plain');

  const ctx: Context = {
    node: opts.node,
    store: opts.store,
    sessions: new Sessions(opts.store, opts.hardening?.login),
    metrics: new Metrics(opts.node, opts.store),
    uploads: new UploadGate(opts.node, opts.hardening?.uploads),
    idempotency: new IdempotencyKeys(opts.store),
  };
  // Expired idempotency keys go, once per party: the sequencer prunes (a follower's store is the same database).
  const prune = () => {
    if (opts.node.isSequencer) ctx.idempotency.prune().catch((err: unknown) => app.log.warn({ err }, 'could not prune idempotency keys'));
  };
  const pruneTimer = setInterval(prune, IDEMPOTENCY_PRUNE_MS);
  pruneTimer.unref();
  prune();
  // issue 14: before every other hook — a follower reads nothing of a write, it hands it over whole.
  const seq = opts.sequencer;
  // Every server checks forwarded requests (only this party's processes may hand it one); a follower forwards.
  registerForward(app, seq, { current: () => opts.node.forwardKey(), accepted: () => opts.node.forwardKeys() });
  if (seq !== undefined) {
    new Gauge({
      name: 'parley_sequencer',
      help: '1 while this process is the sequencer of its party (signs and appends its log), 0 while it is a follower',
      labelNames: ['party'],
      registers: [ctx.metrics.registry],
      collect() {
        this.set({ party: opts.node.party }, seq.isSequencer ? 1 : 0);
      },
    });
  }
  app.addHook('onClose', async () => clearInterval(pruneTimer));
  registerHardening(app, opts.hardening ?? {});
  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (r) => {
    const pattern = new RegExp(`^${r.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`);
    for (const method of [r.method].flat()) routes.push({ method, pattern });
  });

  app.setErrorHandler(onError);
  const webRoot = opts.webRoot !== undefined ? checkWebRoot(opts.webRoot) : undefined;
  let spa: ((req: FastifyRequest, reply: FastifyReply) => Promise<boolean>) | undefined;
  app.setNotFoundHandler(async (req, reply) => {
    if (spa && (await spa(req, reply))) return reply;
    const path = req.url.split('?')[0]!;
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0) throw new HttpError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`, { allow: allowed.join(', ') });
    throw new HttpError('NOT_FOUND', `no route ${req.method} ${path}`);
  });
  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: `Parley node ${opts.node.party}`, version: '1', description: 'One party\u2019s Parley node: officers\u2019 API (/v1) and its public log (/log). Errors are RFC 9457 problems (docs/errors.md).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Token from POST /v1/sessions' } } },
      tags: [{ name: 'sessions' }, { name: 'officers' }, { name: 'entries' }, { name: 'channel' }, { name: 'incidents' }, { name: 'federation' }, { name: 'log' }, { name: 'evaluations' }, { name: 'ops' }],
    },
    transform: jsonSchemaTransform,
    transformObject: (doc) => withProblems(jsonSchemaTransformObject(doc) as OpenApiDoc),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  registerApi(app, ctx);
  registerOfficers(app, ctx);
  registerLog(app, ctx);
  registerWitness(app, ctx);
  registerFederation(app, ctx);
  registerDeadlines(app, ctx);
  registerBundles(app, ctx);
  registerForks(app, ctx);
  registerEvents(app, ctx, opts.events);
  registerIncidents(app, ctx);
  registerStix(app, ctx);
  registerImports(app, ctx);
  registerLinks(app, ctx);
  registerLogs(app, ctx, opts.peerUrls);
  registerContinuity(app, ctx);
  registerGovernance(app, ctx);
  registerEvaluations(app, ctx);
  registerRetractions(app, ctx);
  registerTaxii(app, ctx);
  if (webRoot !== undefined) spa = await registerWeb(app, webRoot);

  app.get('/v1/sequencer', {
    onRequest: ctx.sessions.require(READERS),
    schema: { tags: ['ops'], summary: 'Which process of this party is its sequencer (several processes on one PostgreSQL database; issue 14)', security: BEARER, response: { 200: S.SequencerStatus } },
    handler: async (_req, reply) => {
      const st = seq?.status();
      const sequencer = seq === undefined ? undefined : seq.isSequencer ? st?.self : await seq.sequencerUrl().catch(() => undefined);
      return reply.header('cache-control', 'no-store').send({
        role: st?.role ?? 'sequencer',
        multi: seq !== undefined,
        treeSize: opts.node.treeSize,
        ...(st?.self !== undefined ? { self: st.self } : {}),
        ...(sequencer !== undefined ? { sequencer } : {}),
        since: new Date(st?.since ?? 0).toISOString(),
        elected: st?.elected ?? 1,
      });
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', {
    schema: { tags: ['ops'], summary: 'Prometheus metrics', response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } } },
    handler: async (_req, reply) => reply.type(ctx.metrics.registry.contentType).header('cache-control', 'no-store').send(await ctx.metrics.registry.metrics()),
  });
  app.get('/healthz', {
    schema: { tags: ['ops'], summary: 'Health: 503 while this node may not sign (its log is rolled back or not yet confirmed by a peer; GET /v1/continuity)', response: { 200: S.Health, 503: S.Health } },
    handler: async (_req, reply) => {
      // issue 9: a node that may not sign is not healthy (rollback.ts); `continuity` says why.
      const guard = opts.node.continuity;
      const body = { status: 'ok' as const, party: opts.node.party, treeSize: opts.node.treeSize, ...(seq !== undefined ? { role: seq.status().role } : {}) };
      if (guard === undefined) return reply.header('cache-control', 'no-store').send(body);
      return reply
        .code(guard.ok ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({ ...body, status: guard.ok ? ('ok' as const) : guard.state, continuity: guard.state });
    },
  });
  return app;
}

interface OpenApiDoc {
  components?: { schemas?: Record<string, unknown> };
  paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  [k: string]: unknown;
}

/**
 * Adds the Problem schema, the entry body schemas (even those no route takes,
 * such as receipts: they are what peers send), the live events' data
 * schemas and a problem+json default response to every operation.
 */
function withProblems(doc: OpenApiDoc): OpenApiDoc {
  const schemas: Record<string, unknown> = { ...doc.components?.schemas };
  schemas['Problem'] ??= strip(z.toJSONSchema(Problem));
  // GET /v1/events: the `data` of each event (text/event-stream has no schema of its own).
  for (const schema of [EntryEvent, DeadlineEvent, LinkEvent, ForkEvent, CheckpointEvent, ResetEvent]) {
    const id = (schema.meta() as { id: string }).id;
    schemas[id] ??= strip(z.toJSONSchema(schema));
  }
  for (const [type, schema] of Object.entries(BODY_SCHEMAS)) {
    const id = (schema.meta() as { id?: string } | undefined)?.id ?? type;
    schemas[id] ??= strip(z.toJSONSchema(schema, { io: 'input' }));
  }
  const problem = { description: 'RFC 9457 problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  const paths: NonNullable<OpenApiDoc['paths']> = {};
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    paths[path] = Object.fromEntries(Object.entries(ops).map(([m, op]) => [m, { ...op, responses: { ...op.responses, default: problem } }]));
  }
  return { ...doc, components: { ...doc.components, schemas }, paths };
}

function strip(s: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, id: _i, ...rest } = s;
  return rest;
}
