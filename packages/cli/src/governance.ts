/**
 * Governance at the command line (issue 11): what `parley accord propose |
 * approve | status | history | verify | chain | consent` and `parley key
 * rotate | recover` share — building version N+1 from the node's current
 * version, `--set path=value`, proposal files, consent signatures, chain
 * files, the diff as lines, and the confirmation prompt.
 *
 * A **proposal file** is the body of `POST /v1/accord/proposals`:
 *
 *     {"accord": {…version N+1, whole…}, "signatures": [{"party","sig"}…],
 *      "rationale"?: text, "recovery"?: {"party", "suspectFrom"}}
 *
 * so a draft written with `--out` can travel to a new party (who adds its
 * consent with `parley accord consent`) and come back to be proposed as is.
 */
import { readFileSync } from 'node:fs';
import type { ProposalDiffLine, ProposalView } from '@parley/core';
import {
  type Accord,
  type AccordParty,
  type AccordSignature,
  type SignedAccord,
  type SignerKey,
  DEFAULT_ROLES,
  PARTY_ID,
  accordDigest,
  accordDiff,
  formatHex,
  formatVerifierKey,
  parseVerifierKey,
  signAccord,
  signAccordVersion,
  verifierKeyOf,
} from '@parley/core/node';
import { UsageError } from './exit.js';
import { interactive } from './secrets.js';
import { readJsonFile, writeFileAtomic } from './datadir.js';

/** One change between two versions, as core's accordDiff and the node's proposals list report it. */
export type DiffLine = ProposalDiffLine;

/** `GET /v1/accord`. */
export interface CurrentAccord {
  readonly id: string;
  readonly accord: Accord;
  readonly signedBy?: readonly string[];
  readonly signatures?: readonly AccordSignature[];
  readonly version?: number;
  readonly digest?: string;
}

/** One item of `GET /v1/accord/proposals` (GOV.md §4). */
export type ProposalItem = ProposalView;

export interface Recovery {
  readonly party: string;
  readonly suspectFrom: number;
}

/** A proposal as posted (and as a proposal file holds it). */
export interface Proposal {
  readonly accord: Accord;
  readonly signatures: readonly AccordSignature[];
  readonly rationale?: string;
  readonly recovery?: Recovery;
}

/** Hex SHA-256 of a version's canonical accord: its digest. */
export const digestOf = (a: Accord): string => formatHex(accordDigest(a));

/** The version number of an accord (absent = 1). */
export const versionOf = (a: Accord): number => (a as { version?: number }).version ?? 1;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A mutable deep copy of an accord. */
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Version N+1 of `current`, unchanged apart from `version` and `previous`. */
export function nextOf(current: Accord): Accord {
  const next = copy(current) as unknown as Record<string, Json>;
  next['version'] = versionOf(current) + 1;
  next['previous'] = digestOf(current);
  return next as unknown as Accord;
}

/** Members `--set` may not change: the machine format, the chain links and the channel's name (GOV.md §1). */
const FIXED = new Set(['v', 'version', 'previous', 'name', 'parties']);

/**
 * Applies one `--set path=value` to a draft (in place). The path is dotted;
 * a segment under `parties` is a party id (`parties.US.urls`). The value is
 * JSON when it parses as JSON (`600`, `["https://…"]`, `true`), else a string.
 * @throws UsageError for a malformed assignment, a fixed member, or a path that does not exist.
 */
export function applySet(draft: Accord, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set "${assignment}" is not path=value (e.g. --set heartbeatSeconds=600, --set deadlines.ackSeconds.FLASH=300, --set parties.US.urls='["https://us.example"]')`);
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: Json;
  try {
    value = JSON.parse(raw) as Json;
  } catch {
    value = raw;
  }
  if (path.some((s) => s === '' || s === '__proto__' || s === 'constructor' || s === 'prototype')) throw new UsageError(`--set path "${path.join('.')}" is not a member path`);
  if (path.length === 1 && FIXED.has(path[0]!)) {
    throw new UsageError(
      `--set cannot change "${path[0]}"${path[0] === 'parties' ? ': use --add-party FILE, --remove-party ID or --set parties.ID.MEMBER=…' : ' (the version, the chain link and the channel name are fixed by the chain)'}`,
    );
  }
  if (path[0] === 'parties' && (path.length < 3 || path[2] === 'id')) throw new UsageError(`--set ${path.join('.')}: name a member of a party, e.g. parties.US.urls (a party's id never changes)`);
  // Officers' roles (core roles.ts): an accord without the member means the defaults, so one action can be set alone.
  if (path[0] === 'roles' && path.length > 1 && (draft as { roles?: unknown }).roles === undefined) {
    (draft as unknown as Record<string, Json>)['roles'] = JSON.parse(JSON.stringify(DEFAULT_ROLES)) as Json;
  }
  let at: Record<string, Json> | Json[] = draft as unknown as Record<string, Json>;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    let nextAt: Json | undefined;
    if (Array.isArray(at)) {
      nextAt = path[i - 1] === 'parties' ? at.find((p) => (p as { id?: string }).id === seg) : at[Number(seg)];
      if (nextAt === undefined && path[i - 1] === 'parties') throw new UsageError(`--set ${path.join('.')}: no party ${seg} in the accord`);
    } else {
      nextAt = Object.prototype.hasOwnProperty.call(at, seg) ? at[seg] : undefined;
    }
    if (nextAt === undefined || nextAt === null || typeof nextAt !== 'object') throw new UsageError(`--set ${path.join('.')}: the accord has no member "${path.slice(0, i + 1).join('.')}"`);
    at = nextAt as Record<string, Json> | Json[];
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(at)) {
    const n = Number(last);
    if (!Number.isInteger(n) || n < 0 || n > at.length) throw new UsageError(`--set ${path.join('.')}: "${last}" is not an index of that list`);
    at[n] = value;
  } else {
    at[last] = value;
  }
}

/** Adds a party (its party.json from `parley init`) to a draft, keeping the parties sorted by id. */
export function addParty(draft: Accord, party: AccordParty): void {
  const d = draft as unknown as { parties: AccordParty[] };
  if (typeof party !== 'object' || party === null || typeof party.id !== 'string' || !PARTY_ID.test(party.id) || typeof party.logKey !== 'string' || typeof party.hpkeKey !== 'string') {
    throw new UsageError('--add-party: the file is not a party file (id, names, urls, logKey, hpkeKey — the party.json that parley init writes)', 'FILE_UNREADABLE');
  }
  if (d.parties.some((p) => p.id === party.id)) throw new UsageError(`--add-party: ${party.id} is already a party (to change its members use --set parties.${party.id}.MEMBER=…)`);
  const origin = parseVerifierKey(party.logKey).name;
  if (d.parties.some((p) => parseVerifierKey(p.logKey).name === origin)) throw new UsageError(`--add-party: origin ${origin} is already another party's log`);
  d.parties = [...d.parties, party].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Removes a party from a draft; the quorum is clamped to the parties left. */
export function removeParty(draft: Accord, id: string): void {
  const d = draft as unknown as { parties: AccordParty[]; amendmentQuorum: number };
  if (!d.parties.some((p) => p.id === id)) throw new UsageError(`--remove-party: ${id} is not a party of the current accord`);
  d.parties = d.parties.filter((p) => p.id !== id);
  if (d.parties.length === 0) throw new UsageError('--remove-party: an accord keeps at least one party');
  d.amendmentQuorum = Math.min(d.amendmentQuorum, d.parties.length);
}

/** The changes from `prev` to `next` (core's accordDiff: the same list the node and the dashboard show). */
export function diffOf(prev: Accord, next: Accord): DiffLine[] {
  return [...accordDiff(prev, next)] as DiffLine[];
}

const show = (v: unknown): string => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

/** A diff as lines a person reads: `path: from → to`, with `+` for an added member and `-` for a removed one. */
export function diffLines(diff: readonly DiffLine[], indent = '  '): string[] {
  if (diff.length === 0) return [`${indent}(no change apart from version and previous)`];
  return diff.map((d) => {
    if (!('from' in d) || d.from === undefined) return `${indent}+ ${d.path}: ${show(d.to)}`;
    if (!('to' in d) || d.to === undefined) return `${indent}- ${d.path}: ${show(d.from)}`;
    return `${indent}~ ${d.path}: ${show(d.from)} → ${show(d.to)}`;
  });
}

/**
 * Asks a person to confirm before something is signed or sent.
 * @param yes `--yes`: no question.
 * @throws UsageError `CANCELLED` when refused; `USAGE` without a terminal and without --yes.
 */
export async function confirmOrYes(question: string, lines: readonly string[], yes: boolean | undefined, what: string): Promise<void> {
  if (yes === true) return;
  if (!interactive()) throw new UsageError(`no terminal to confirm on: review the changes, then pass --yes to ${what}`);
  const { confirm, isCancel } = await import('@clack/prompts'); // only with a person at the terminal
  process.stderr.write(`│\n${lines.map((l) => `│  ${l}`).join('\n')}\n`);
  const v = await confirm({ message: question, output: process.stderr, initialValue: false });
  if (isCancel(v) || v !== true) throw new UsageError(`not done: ${what} was not confirmed`, 'CANCELLED');
}

/**
 * The consent (plain) signature of the party whose log key in `accord` is `key`'s.
 * @returns the party's id and its signature.
 * @throws UsageError when no party of `accord` has that key.
 */
export function consentOf(accord: Accord, key: SignerKey): { party: string; signature: AccordSignature } {
  const vkey = formatVerifierKey(verifierKeyOf(key));
  const p = accord.parties.find((x) => x.logKey === vkey);
  if (!p) throw new UsageError(`the key ${vkey.split('+').slice(0, 2).join('+')} is not the log key of any party in this version: a consent is made with the key the version names`);
  const signed = versionOf(accord) === 1 ? signAccord({ accord, signatures: [] }, p.id, key) : signAccordVersion({ accord, signatures: [] }, p.id, key);
  return { party: p.id, signature: signed.signatures[0]! };
}

/**
 * Adds a plain signature to a list (replacing the party's earlier plain one,
 * keeping its prior one), sorted by party, then plain before prior.
 */
export function withSignature(list: readonly AccordSignature[], sig: AccordSignature): AccordSignature[] {
  const isPrior = (s: AccordSignature) => (s as { prior?: boolean }).prior === true;
  const kept = list.filter((s) => s.party !== sig.party || isPrior(s) !== isPrior(sig));
  return [...kept, sig].sort((a, b) => (a.party < b.party ? -1 : a.party > b.party ? 1 : Number(isPrior(a)) - Number(isPrior(b))));
}

/**
 * Reads a proposal file, a signed accord file or a bare accord.
 * @throws UsageError `FILE_UNREADABLE` for a file that is none of them.
 */
export function readProposalFile(file: string): Proposal {
  const v = readJsonFile(file, 'proposal file') as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${file} is not a proposal (a JSON object: {"accord", "signatures"} or an accord)`, 'FILE_UNREADABLE');
  const inner = v['accord'];
  if (typeof inner === 'object' && inner !== null) {
    const sigs = v['signatures'] ?? [];
    if (!Array.isArray(sigs)) throw new UsageError(`${file}: "signatures" is not a list`, 'FILE_UNREADABLE');
    const rationale = v['rationale'];
    const recovery = v['recovery'];
    if (rationale !== undefined && typeof rationale !== 'string') throw new UsageError(`${file}: "rationale" is not text`, 'FILE_UNREADABLE');
    return {
      accord: inner as Accord,
      signatures: sigs as AccordSignature[],
      ...(rationale !== undefined ? { rationale } : {}),
      ...(recovery !== undefined ? { recovery: recovery as Recovery } : {}),
    };
  }
  if (Array.isArray(v['parties'])) return { accord: v as unknown as Accord, signatures: [] };
  throw new UsageError(`${file} is not a proposal (no "accord" member, and not an accord itself)`, 'FILE_UNREADABLE');
}

/** Writes a proposal file (pretty JSON, world-readable: everything in it is public). */
export function writeProposalFile(file: string, p: Proposal): void {
  writeFileAtomic(file, `${JSON.stringify(p, null, 2)}\n`, 0o644);
}

/** The body of `POST /v1/accord/proposals`. */
export function proposalBody(p: Proposal): Record<string, unknown> {
  return {
    accord: p.accord,
    signatures: p.signatures,
    ...(p.rationale !== undefined ? { rationale: p.rationale } : {}),
    ...(p.recovery !== undefined ? { recovery: p.recovery } : {}),
  };
}

/** A chain file as read (GOV.md §2), unchecked. */
export interface ChainFileJson {
  readonly channel: string;
  readonly versions: readonly SignedAccord[];
  readonly activations: readonly { readonly party: string; readonly version: number; readonly size: number; readonly entry: string; readonly suspectFrom?: number }[];
}

/** True when a parsed JSON value has the outline of a chain file (a `versions` list). */
export const isChainFile = (v: unknown): v is ChainFileJson => typeof v === 'object' && v !== null && Array.isArray((v as { versions?: unknown }).versions);

/**
 * Reads a chain file.
 * @throws UsageError `FILE_UNREADABLE` when it cannot be read, is not JSON or has no `versions` list.
 */
export function readChainFile(file: string): ChainFileJson {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read chain file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`, 'FILE_UNREADABLE');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`chain file "${file}" is not valid JSON`, 'FILE_UNREADABLE');
  }
  if (!isChainFile(v)) throw new UsageError(`"${file}" is not a chain file ({"channel", "versions": [...], "activations": [...]}; save one with: parley accord chain --out FILE)`, 'FILE_UNREADABLE');
  return v;
}

/** A short digest for a person (the full one is in --json). */
export const short = (digest: string): string => `${digest.slice(0, 16)}…`;

/** The digest of a proposal the command line names: whole, or a unique prefix of at least 8 hex digits. */
export function findProposal(items: readonly ProposalItem[], digest: string): ProposalItem {
  const d = digest.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(d)) throw new UsageError(`"${digest}" is not a proposal digest (8 to 64 hex digits; see parley accord status)`);
  const hits = items.filter((i) => i.digest.startsWith(d));
  if (hits.length === 0) throw new UsageError(`no proposal ${digest} on this node (see parley accord status)`);
  if (hits.length > 1) throw new UsageError(`"${digest}" names ${hits.length} proposals: give more digits`);
  return hits[0]!;
}
