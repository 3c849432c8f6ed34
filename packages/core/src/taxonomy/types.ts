/**
 * Taxonomy types and closed code sets (see `taxonomy.ts` for the format).
 * Every closed set here is part of the taxonomy version: changing one means
 * a new version, a new data file and a new hash.
 */

// ---------------------------------------------------------------------------
// Closed code sets (a change to any of them is a new taxonomy version)

/** The two languages every label and definition is written in. */
export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Lang = (typeof LANGUAGES)[number];

/** Hotline precedences, most urgent first (CCEB ACP 121 order). */
export const PRECEDENCES = ['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'] as const;
export type Precedence = (typeof PRECEDENCES)[number];

/** FIRST TLP 2.0 labels, least restrictive first. */
export const MARKINGS = ['TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED'] as const;
export type Marking = (typeof MARKINGS)[number];

/** Severity levels, INES-shaped (IAEA INES levels 0–7). */
export const SEVERITIES = [0, 1, 2, 3, 4, 5, 6, 7] as const;
export type Severity = (typeof SEVERITIES)[number];

/** OECD hazard / near-miss (CSETv1) / incident. */
export const STAGES = ['hazard', 'near-miss', 'incident'] as const;
export type Stage = (typeof STAGES)[number];

export const ACTOR_TYPES = [
  'developer',
  'deployer',
  'user',
  'affected-party',
  'evaluator',
  'insider',
  'state-actor',
  'non-state-actor',
  'ai-system',
  'unknown',
] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const HARM_TYPES = [
  'physical',
  'psychological',
  'economic',
  'infrastructure',
  'rights',
  'environment-property',
  'security',
  'societal',
] as const;
export type HarmType = (typeof HARM_TYPES)[number];

export const REPORT_KINDS = ['initial', 'update', 'final', 'retraction'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const LIFECYCLE_STATES = ['open', 'updated', 'final', 'retracted'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

// ---------------------------------------------------------------------------
// Types of the data file

/** A text in both languages; neither may be empty. */
export type Localized = { readonly en: string; readonly 'zh-CN': string };

/** A coded term with a bilingual label and definition. */
export interface Term<C extends string> {
  readonly code: C;
  readonly label: Localized;
  readonly definition: Localized;
}

export interface Category extends Term<string> {
  /** SB 53 / RAISE catastrophic-risk or critical-safety-incident category (see the `catastrophic` note). */
  readonly catastrophic: boolean;
  /** References to other vocabularies, as plain strings (e.g. "ATLAS AML.T0024"). */
  readonly mapsTo: readonly string[];
}

export interface SeverityLevel {
  readonly level: Severity;
  readonly name: Localized;
  readonly definition: Localized;
  /** Default hotline precedence of a report at this level. */
  readonly precedence: Precedence;
  /** Default acknowledgement deadline; equals the precedence's. */
  readonly ackSeconds: number;
  /** Default deadline for the initial report, from awareness of the event. */
  readonly initialReportSeconds: number;
  /** The rule says "immediately"; `initialReportSeconds` is then the FLASH ack deadline. */
  readonly initialReportImmediate: boolean;
}

export interface PrecedenceTerm {
  readonly code: Precedence;
  readonly label: Localized;
  /** Handling objective, CCEB-style. */
  readonly description: Localized;
  readonly ackSeconds: number;
}

export interface LifecycleTerm extends Term<LifecycleState> {
  /** The report kind that moves an incident into this state. */
  readonly enteredBy: ReportKind;
}

export interface Source {
  readonly id: string;
  readonly title: Localized;
  /** Citation, e.g. "Regulation (EU) 2024/1689, Art. 3(49) and Art. 73". */
  readonly reference: string;
  readonly url: string;
}

export interface Note {
  readonly id: string;
  readonly text: Localized;
}

export interface Taxonomy {
  readonly id: string;
  readonly version: string;
  readonly title: Localized;
  readonly description: Localized;
  readonly sources: readonly Source[];
  readonly notes: readonly Note[];
  readonly receiptSeconds: number;
  readonly categories: readonly Category[];
  readonly severity: readonly SeverityLevel[];
  readonly precedences: readonly PrecedenceTerm[];
  readonly markings: readonly Term<Marking>[];
  readonly stages: readonly Term<Stage>[];
  readonly actorTypes: readonly Term<ActorType>[];
  readonly harmTypes: readonly Term<HarmType>[];
  readonly reportKinds: readonly Term<ReportKind>[];
  readonly lifecycleStates: readonly LifecycleTerm[];
}

/** Default deadlines an accord starts from, all in seconds. */
export interface Deadlines {
  readonly ackSeconds: Readonly<Record<Precedence, number>>;
  readonly initialReportSeconds: Readonly<Record<Severity, number>>;
  readonly receiptSeconds: number;
}

