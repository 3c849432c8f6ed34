/**
 * Shapes of the node's API as the dashboard uses them: re-exported from
 * `@parley/node/api`, the types derived from the same zod schemas that
 * validate requests and generate /openapi.json (type-only: no server code
 * reaches the bundle). The few names below are conveniences over them.
 */
import type * as Api from '@parley/node/api';

export type {
  AccordResponse,
  DeadlineItem,
  DeadlinesResponse,
  EntryType,
  EntryView,
  HotlineMessageBody,
  IncidentReportBody,
  ListResponse,
  LoginResponse,
  MessageRequest,
  ParleyEvent,
  ReportRequest,
  Role,
  SignedEntry,
  Submitted,
} from '@parley/node/api';

export type Officer = Api.LoginResponse['officer'];
/** One recipient's delivery deadline as inbox and outbox listings carry it. */
export type Deadline = Api.EntryDeadline;
export type DeliveryState = Deadline['state'];
export type EntryRef = NonNullable<Api.ReportRequest['refs']>[number];
export type ReportKind = Api.IncidentReportBody['kind'];
