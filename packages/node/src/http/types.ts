/**
 * The HTTP API's request and response types, for clients (the dashboard in
 * packages/web) — derived from the same zod schemas that validate requests
 * and generate /openapi.json, so the types cannot drift from the server.
 *
 *     import type { EntryView, ListResponse, ParleyEvent } from '@parley/node/api';
 *
 * Type-only: this module has no runtime exports (its compiled .js is empty),
 * so importing it with `import type` pulls no server code into a bundle.
 * Response types are `z.output` (what the server sends); request types are
 * `z.input` (what a client writes: optional members may be left out).
 */
import type { z } from 'zod';
import type * as S from './schemas.js';
import type * as D from './deadlines.js';
import type * as E from './events.js';
import type * as I from './incidents.js';
import type * as L from './logs.js';
import type * as F from './forks.js';
import type * as C from './continuity.js';
import type * as V from './evaluations.js';
import type * as R from './retractions.js';
import type { Problem as ProblemSchema } from './problem.js';
import type * as B from '../bodies.js';

// --- requests ------------------------------------------------------------------
export type LoginRequest = z.input<typeof S.LoginRequest>;
export type CreateOfficerRequest = z.input<typeof S.CreateOfficerRequest>;
export type MessageRequest = z.input<typeof S.MessageRequest>;
export type ReportRequest = z.input<typeof S.ReportRequest>;
export type AckRequest = z.input<typeof S.AckRequest>;
export type ListQuery = z.input<typeof S.ListQuery>;
export type DeadlinesQuery = z.input<typeof D.DeadlinesQuery>;
export type IncidentsQuery = z.input<typeof I.IncidentsQuery>;
export type ComplianceQuery = z.input<typeof I.ComplianceQuery>;
export type ComplianceCsvQuery = z.input<typeof I.ComplianceCsvQuery>;
export type LogEntryQuery = z.input<typeof L.LogEntryQuery>;
export type LogListQuery = z.input<typeof L.LogListQuery>;
export type RetractionRequest = z.input<typeof R.RetractionRequest>;

// --- bodies of entries -----------------------------------------------------------
export type IncidentReportBody = z.output<typeof B.IncidentReportBody>;
export type HotlineMessageBody = z.output<typeof B.HotlineMessageBody>;
export type AckBody = z.output<typeof B.AckBody>;
export type ReceiptBody = z.output<typeof B.ReceiptBody>;
export type HeartbeatBody = z.output<typeof B.HeartbeatBody>;

// --- responses ---------------------------------------------------------------------
export type Role = z.output<typeof S.Role>;
export type Precedence = z.output<typeof S.Precedence>;
export type Marking = z.output<typeof S.Marking>;
export type EntryType = z.output<typeof S.EntryType>;
export type LoginResponse = z.output<typeof S.LoginResponse>;
export type MeResponse = z.output<typeof S.MeResponse>;
export type CreateOfficerResponse = z.output<typeof S.CreateOfficerResponse>;
export type SignedEntry = z.output<typeof S.SignedEntry>;
export type Submitted = z.output<typeof S.Submitted>;
export type EntryView = z.output<typeof S.EntryView>;
export type EntryDeadline = NonNullable<EntryView['deadlines']>[number];
export type ListResponse = z.output<typeof S.ListResponse>;
export type AccordResponse = z.output<typeof S.AccordResponse>;
export type DeadlineItem = z.output<typeof D.DeadlineItem>;
export type DeadlinesResponse = z.output<typeof D.DeadlinesResponse>;
export type LinksResponse = z.output<typeof D.LinksResponse>;
export type Link = LinksResponse['links'][number];
export type IncidentSummary = z.output<typeof I.IncidentSummary>;
export type IncidentsResponse = z.output<typeof I.IncidentsResponse>;
export type IncidentResponse = z.output<typeof I.IncidentResponse>;
export type IncidentStatus = z.output<typeof I.IncidentStatus>;
export type ComplianceRow = z.output<typeof I.ComplianceRow>;
export type ComplianceResponse = z.output<typeof I.ComplianceResponse>;
export type IncidentDay = z.output<typeof I.IncidentDay>;
export type LogEntryProof = z.output<typeof L.LogEntryProof>;
export type LogListing = z.output<typeof L.LogListing>;
export type CosignedNotes = z.output<typeof L.CosignedNotes>;
export type LogConsistencyProof = z.output<typeof L.LogConsistencyProof>;
export type LogListingItem = LogListing['items'][number];
export type ForkItem = z.output<typeof F.ForkItem>;
export type ForksResponse = z.output<typeof F.ForksResponse>;
export type ContinuityResponse = z.output<typeof C.ContinuityResponse>;
export type EvaluationView = z.output<typeof V.EvaluationView>;
export type EvaluationsResponse = z.output<typeof V.EvaluationsResponse>;
/** GET /v1/logs/{party}/checkpoint answers the signed note as text/plain. */
export type LogCheckpointText = string;
export type Problem = z.output<typeof ProblemSchema>;

// --- live events (GET /v1/events) -------------------------------------------------
export type ParleyEvent = z.output<typeof E.ParleyEvent>;
export type ParleyEventName = ParleyEvent['event'];
export type EntryEvent = z.output<typeof E.EntryEvent>;
export type DeadlineEvent = z.output<typeof E.DeadlineEvent>;
export type LinkEvent = z.output<typeof E.LinkEvent>;
export type ForkEvent = z.output<typeof E.ForkEvent>;
export type CheckpointEvent = z.output<typeof E.CheckpointEvent>;
export type ResetEvent = z.output<typeof E.ResetEvent>;

// Issue 13: AI Incident Database imports and cross-party links (imports.ts, links.ts).
import type * as LK from './links.js';
import type * as IM from './imports.js';
export type SimilarResponse = z.output<typeof LK.SimilarResponse>;
export type SimilarIncident = z.output<typeof LK.SimilarItem>;
export type IncidentLink = z.output<typeof LK.LinkView>;
export type LinkRequest = z.input<typeof LK.LinkRequest>;
export type AiidImportRequest = z.input<typeof IM.AiidImportRequest>;
export type AiidImportResponse = z.output<typeof IM.AiidImportResponse>;
