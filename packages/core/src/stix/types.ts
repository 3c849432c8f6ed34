/**
 * Types of the STIX 2.1 export: what goes in (one incident as the node
 * holds it — {@link StixIncidentInput}) and what comes out (STIX objects and
 * bundles, plain JSON).
 *
 * The input is built from what `GET /v1/incidents/{id}` returns to the caller
 * and nothing more: the node puts in only the reports, acks, retractions and
 * links whose bodies the caller may read. Core never sees a sealed body it
 * should not export.
 */
import type { IncidentReportBody, LinkRelation, RetractionAction } from '../entry/bodies.js';
import type { Marking } from '../taxonomy/types.js';

/** A STIX object as JSON (`type` and `id` always present). */
export interface StixObject {
  readonly type: string;
  readonly id: string;
  readonly [property: string]: unknown;
}

/** STIX 2.1 §8 bundle. */
export interface StixBundle {
  readonly type: 'bundle';
  readonly id: string;
  readonly objects: readonly StixObject[];
}

/** A Parley log entry: (party, index) — `party` is the log's owner. */
export interface StixEntryKey {
  readonly party: string;
  readonly index: number;
}

/** Where an object of the export came from: one entry of a party's log. */
export interface StixEntrySource extends StixEntryKey {
  /** RFC 6962 leaf hash of the entry, lowercase hex (64 digits): a consumer checks it against the log. */
  readonly leafHash: string;
  /** The entry's `time` (RFC 3339 UTC). */
  readonly time: string;
  /** The entry's TLP 2.0 marking: every object made from it carries it. */
  readonly marking: Marking;
}

/** An `incident.report` entry, opened. */
export interface StixReportInput extends StixEntrySource {
  readonly body: IncidentReportBody;
}

/** An `ack` entry answering one or more reports of the incident. */
export interface StixAckInput extends StixEntrySource {
  /** The entries it acknowledges (its refs). */
  readonly answers: readonly StixEntryKey[];
  readonly reply?: string;
  readonly lang?: string;
}

/** A `retraction` entry withdrawing a report or an ack of the incident (I13 semantics). */
export interface StixRetractionInput extends StixEntrySource {
  /** The entry withdrawn (refs[0], in the retraction sender's own log). */
  readonly target: StixEntryKey;
  readonly action: RetractionAction;
  /** The replacement (refs[1]) of a supersede. */
  readonly replacement?: StixEntryKey;
}

/** An `incident.link` entry naming this incident. */
export interface StixLinkInput extends StixEntrySource {
  readonly incidents: readonly string[];
  readonly relation: LinkRelation;
  readonly note?: string;
}

/**
 * One incident as the caller may read it. Reports of the reporting party (the
 * party of the incident id, `US` of `US:2026-0007`) are the incident's
 * versions; other parties' reports about it are their counter-assessments.
 */
export interface StixIncidentInput {
  /** The incident id (`US:2026-0007`). */
  readonly incident: string;
  readonly reports: readonly StixReportInput[];
  readonly acks?: readonly StixAckInput[];
  readonly retractions?: readonly StixRetractionInput[];
  readonly links?: readonly StixLinkInput[];
  /**
   * Each party's log origin (the name of its log key in the accord, e.g. `us.example/log`): every reference
   * to one of its entries names it, so a consumer knows which log to check the leaf hash against.
   */
  readonly origins?: Readonly<Record<string, string>>;
}

/** An exported object with the time of the entry that made this version (a TAXII `date_added`). */
export interface StixObjectSource {
  readonly object: StixObject;
  /** RFC 3339 UTC: the time of the entry that produced this version (a retraction's for a revocation). */
  readonly time: string;
  /** The TLP 2.0 marking the object carries. */
  readonly marking: Marking;
}
