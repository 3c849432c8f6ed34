/**
 * Shapes of the node's API as the dashboard uses them, written from
 * packages/node/src/http/schemas.ts and bodies.ts (the node's zod schemas are
 * the source of truth; keep these in step, or import them from
 * `@parley/node/api` once it exports them).
 */
import type { Marking, Precedence } from '@parley/core';

export type Role = 'officer' | 'auditor' | 'admin';
export interface Officer {
  readonly name: string;
  readonly role: Role;
}
export interface LoginResponse {
  readonly token: string;
  readonly officer: Officer;
  readonly expires: string;
}

export type EntryType = 'hotline.message' | 'incident.report' | 'ack' | 'receipt' | 'heartbeat' | 'accord.amendment' | (string & {});

export interface EntryRef {
  readonly party: string;
  readonly index: number;
  readonly hash: string;
}

export interface SignedEntry {
  readonly v: 1;
  readonly accord: string;
  readonly from: { readonly party: string; readonly officer: string };
  readonly to: readonly string[];
  readonly seq: number;
  readonly time: string;
  readonly type: EntryType;
  readonly precedence: Precedence;
  readonly marking: Marking;
  readonly refs: readonly EntryRef[];
  readonly body:
    | { readonly sealed: { readonly aead: string; readonly commitment: string; readonly recipients: readonly { party: string; enc: string; ct: string }[] } }
    | { readonly clear: unknown };
  readonly sig: string;
}

export interface Stamp {
  readonly index: number;
  readonly time: string;
}

export type DeliveryState = 'sent' | 'received' | 'acknowledged' | 'overdue-receipt' | 'overdue-ack';

export interface Deadline {
  readonly recipient: string;
  readonly state: DeliveryState;
  /** The governing deadline: next while on time, first missed once overdue, last once settled. */
  readonly dueAt: string;
  readonly overdue: readonly ('receipt' | 'ack')[];
  readonly settled: boolean;
}

export interface EntryView {
  readonly party: string;
  readonly index: number;
  readonly leafHash: string;
  readonly entry: SignedEntry;
  readonly body?: unknown;
  readonly sealed?: 'not-entitled' | 'not-a-recipient';
  readonly state?: { readonly receipt?: Stamp; readonly ack?: Stamp & { readonly officer: string } };
  readonly deadlines?: readonly Deadline[];
}

export interface ListResponse {
  readonly items: readonly EntryView[];
  readonly next?: number;
}

export interface Submitted {
  readonly party: string;
  readonly index: number;
  readonly leafHash: string;
  readonly treeSize: number;
  readonly entry: SignedEntry;
}

export interface AccordResponse {
  readonly id: string;
  readonly accord: Record<string, unknown>;
  readonly signedBy: readonly string[];
}

export interface HotlineMessageBody {
  readonly text: string;
  readonly lang?: string;
}

export type ReportKind = 'initial' | 'update' | 'final' | 'retraction';

export interface IncidentReportBody {
  readonly incident: string;
  readonly kind: ReportKind;
  readonly title: string;
  readonly summary: string;
  readonly category: string;
  readonly severity: number;
  readonly stage: string;
  readonly system: { readonly name: string; readonly developer?: string; readonly version?: string };
  readonly actor: { readonly type: string; readonly description?: string };
  readonly harm: { readonly types: readonly string[]; readonly description?: string };
  readonly mitigations: readonly string[];
  readonly occurredAt?: string;
  readonly detectedAt?: string;
  readonly lang?: string;
}
