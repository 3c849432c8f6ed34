/**
 * The files of `parley eval`: the evaluation document a team writes (JSON or
 * YAML, EVAL.md §2), and the disclosures file `parley eval commit` writes and
 * `parley eval reveal` reads — the salts that open the commitment, kept by
 * the committing party only (mode 0600; lose it and nothing can ever be
 * revealed, leak it and everything can).
 *
 *   disclosures file (JSON):
 *   { "type": "parley/evaluation-disclosures", "v": 1,
 *     "document": "eval.yaml",            the file it was made from (as given)
 *     "created": "2026-…Z",
 *     "stage": "report", "domains": ["CBRN", …],
 *     "sd": ["<digest>", …],               the committed top-level digests, decoys included, sorted
 *     "commitment"?: {"party", "index", "leafHash"},   once the node logged it
 *     "protocol"?: {"party", "index"},     the protocol commitment it follows
 *     "disclosures": [{"path", "encoded", "digest"}, …] }   every claim at every depth
 *
 * The encoded disclosure is the whole secret: `[salt, name, value]` in
 * base64url; its digest is recomputed and checked when the file is read.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { UsageError } from './exit.js';
import { readInput } from './io.js';

/** A `PARTY:INDEX` position on the command line. */
export interface Position {
  readonly party: string;
  readonly index: number;
}

/** Parses `PARTY:INDEX` (also `PARTY/INDEX`, as `parley inbox` prints positions). */
export function parsePosition(s: string, what: string): Position {
  const m = /^([A-Z][A-Z0-9-]{0,15})[:/](0|[1-9][0-9]{0,14})$/.exec(s.trim());
  if (!m) throw new UsageError(`${what} must be PARTY:INDEX (e.g. US:42), got "${s}"`);
  return { party: m[1]!, index: Number(m[2]) };
}

export const positionText = (p: Position): string => `${p.party}:${p.index}`;

/** Largest evaluation document read (a document is a few kilobytes; the report itself is only hashed). */
const MAX_DOCUMENT = 1024 * 1024;

/**
 * Reads an evaluation document: JSON (`.json`), YAML (`.yaml`, `.yml`), or
 * either by content for another name or standard input (`-`). YAML is read
 * with the YAML 1.2 core schema (no timestamps or other implicit types beyond
 * JSON's), duplicate keys refused, aliases limited.
 */
export async function readEvaluationDocument(file: string): Promise<Record<string, unknown>> {
  const bytes = readInput(file, 'evaluation document');
  if (bytes.length > MAX_DOCUMENT) throw new UsageError(`the evaluation document "${file}" is larger than ${MAX_DOCUMENT} bytes: keep the report itself in its own file and name it in report.file`, 'FILE_UNREADABLE');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new UsageError(`the evaluation document "${file}" is not UTF-8 text`, 'FILE_UNREADABLE');
  }
  const ext = extname(file).toLowerCase();
  let value: unknown;
  if (ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[{[]/.test(text) && isJson(text))) {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`the evaluation document "${file}" is not valid JSON: ${(e as Error).message}`, 'FILE_UNREADABLE');
    }
  } else {
    const { parseDocument } = await import('yaml');
    const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: true, strict: true });
    const err = doc.errors[0];
    if (err !== undefined) throw new UsageError(`the evaluation document "${file}" is not valid YAML: ${err.message.split('\n')[0]}`, 'FILE_UNREADABLE');
    try {
      value = doc.toJS({ maxAliasCount: 50 });
    } catch (e) {
      throw new UsageError(`the evaluation document "${file}" cannot be read as YAML: ${(e as Error).message}`, 'FILE_UNREADABLE');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`the evaluation document "${file}" must be an object with stage, model, developer, evaluator, domains, suites, redLines and report (see parley eval commit --help)`, 'FILE_UNREADABLE');
  }
  checkJsonValues(value, 'the document', file);
  return value as Record<string, unknown>;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Only JSON values (YAML can say .inf, .nan, or a key that is not a string): a claim must hash the same everywhere. */
function checkJsonValues(v: unknown, at: string, file: string): void {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new UsageError(`the evaluation document "${file}": ${at} is ${v}, not a JSON number`, 'FILE_UNREADABLE');
  if (typeof v === 'bigint' || typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol' || v instanceof Date || v instanceof Map || v instanceof Set || v instanceof Uint8Array) {
    throw new UsageError(`the evaluation document "${file}": ${at} is not a JSON value (write it as a quoted string)`, 'FILE_UNREADABLE');
  }
  if (Array.isArray(v)) v.forEach((x, i) => checkJsonValues(x, `${at}[${i}]`, file));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) checkJsonValues(x, `${at}.${k}`, file);
}

/** SHA-256 of a file, streamed (a report may be large), as lower-case hex. */
export async function sha256File(file: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  } catch (e) {
    throw new UsageError(`cannot read the report file "${file}" named by report.file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'FILE_UNREADABLE');
  }
  return h.digest('hex');
}

/**
 * `report.file` → `report.sha256`: the file (relative to the document's
 * directory) is hashed here and the path left out of the claims (a path says
 * nothing the digest does not, and may say more than meant). A `sha256`
 * given beside `file` must agree with it.
 * @returns the document to commit, and the file hashed (if any).
 */
export async function withReportDigest(doc: Record<string, unknown>, documentFile: string): Promise<{ doc: Record<string, unknown>; hashed?: { file: string; sha256: string } }> {
  const report = doc['report'];
  if (typeof report !== 'object' || report === null || Array.isArray(report)) return { doc };
  const r = report as Record<string, unknown>;
  if (r['file'] === undefined) return { doc };
  if (typeof r['file'] !== 'string' || r['file'] === '') throw new UsageError('report.file must be the path of the full report file (relative to the evaluation document)', 'EVAL_DOCUMENT_INVALID');
  const base = documentFile === '-' ? process.cwd() : dirname(resolve(documentFile));
  const path = resolve(base, r['file']);
  const sha256 = await sha256File(path);
  if (r['sha256'] !== undefined && String(r['sha256']).toLowerCase() !== sha256) {
    throw new UsageError(`report.sha256 (${String(r['sha256'])}) is not the SHA-256 of report.file "${r['file']}" (${sha256}): fix or remove report.sha256`, 'EVAL_DOCUMENT_INVALID');
  }
  const { file: _file, ...rest } = r;
  return { doc: { ...doc, report: { ...rest, sha256 } }, hashed: { file: path, sha256 } };
}

/** One claim's disclosure as the disclosures file keeps it. */
export interface KeptDisclosure {
  readonly path: string;
  readonly encoded: string;
  readonly digest: string;
}

export interface DisclosuresFile {
  readonly type: 'parley/evaluation-disclosures';
  readonly v: 1;
  readonly document: string;
  readonly created: string;
  readonly stage: string;
  readonly domains: readonly string[];
  readonly sd: readonly string[];
  readonly commitment?: { readonly party: string; readonly index: number; readonly leafHash: string };
  readonly protocol?: Position;
  readonly disclosures: readonly KeptDisclosure[];
}

/** The default disclosures file of a document: FILE.disclosures.json beside it. */
export const defaultDisclosuresFile = (documentFile: string): string => (documentFile === '-' ? 'evaluation.disclosures.json' : `${documentFile}.disclosures.json`);

/**
 * Creates the disclosures file, mode 0600, refusing to replace one unless
 * `force` (a replaced file loses the salts of an earlier commitment for good).
 * Written with O_EXCL (or truncated with --force) and fsynced before the
 * commitment is sent: the salts are on disk before anything depends on them.
 */
export function createDisclosuresFile(file: string, data: DisclosuresFile, force: boolean): void {
  if (!force && existsSync(file)) {
    throw new UsageError(`"${file}" exists: it may hold the salts of an earlier commitment, which nothing can recreate. Choose another file with --out FILE, or pass --force to replace it`, 'FILE_EXISTS');
  }
  writeExclusive(file, data, force);
}

/** Rewrites the disclosures file in place (keeps its mode), e.g. with the commitment's position once logged. */
export function updateDisclosuresFile(file: string, data: DisclosuresFile): void {
  writeExclusive(file, data, true);
}

function writeExclusive(file: string, data: DisclosuresFile, replace: boolean): void {
  let fd: number;
  try {
    fd = openSync(file, replace ? 'w' : 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`"${file}" exists: choose another file with --out FILE, or pass --force to replace it`, 'FILE_EXISTS');
    throw new UsageError(`cannot write the disclosures file "${file}": ${code ?? (e as Error).message}`, 'FILE_UNWRITABLE');
  }
  try {
    writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A file that existed keeps its mode through 'w': make sure it is ours alone.
  chmodSync(file, 0o600);
}

/** Removes a disclosures file this command created (its commitment was refused: nothing depends on it). */
export function removeDisclosuresFile(file: string): void {
  rmSync(file, { force: true });
}

/** Reads a disclosures file and checks each kept digest against its encoded disclosure with `digestOf`. */
export function readDisclosuresFile(file: string, digestOf: (encoded: string) => string): DisclosuresFile {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code !== undefined ? `cannot read the disclosures file "${file}": ${code}` : `the disclosures file "${file}" is not valid JSON`, 'FILE_UNREADABLE');
  }
  const f = v as Partial<DisclosuresFile>;
  if (typeof f !== 'object' || f === null || f.type !== 'parley/evaluation-disclosures' || f.v !== 1 || !Array.isArray(f.disclosures) || !Array.isArray(f.sd)) {
    throw new UsageError(`"${file}" is not a disclosures file (parley eval commit writes one beside the evaluation document: FILE.disclosures.json)`, 'FILE_UNREADABLE');
  }
  for (const d of f.disclosures) {
    if (typeof d?.encoded !== 'string' || typeof d.path !== 'string' || typeof d.digest !== 'string') throw new UsageError(`the disclosures file "${file}" has a malformed disclosure`, 'FILE_UNREADABLE');
    let digest: string;
    try {
      digest = digestOf(d.encoded);
    } catch {
      throw new UsageError(`the disclosures file "${file}": the disclosure of ${d.path} cannot be read`, 'FILE_UNREADABLE');
    }
    if (digest !== d.digest) throw new UsageError(`the disclosures file "${file}": the disclosure of ${d.path} does not hash to its digest (the file was altered)`, 'FILE_UNREADABLE');
  }
  return f as DisclosuresFile;
}

export const documentName = (file: string): string => (file === '-' ? '-' : basename(file));

/**
 * A time on the command line: RFC 3339 (any offset; normalised to UTC), a
 * date (midnight UTC), or `now`.
 */
export function parseTimeArg(s: string, what: string): string {
  const t = s.trim();
  if (t === 'now') return new Date().toISOString();
  const date = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t;
  const ok = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(date);
  const d = new Date(date.replace(' ', 'T'));
  if (!ok || Number.isNaN(d.getTime())) throw new UsageError(`${what} must be an RFC 3339 time (2026-12-01T09:00:00Z), a date (2026-12-01) or now, got "${s}"`);
  return d.toISOString();
}
