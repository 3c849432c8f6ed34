/**
 * Reading an AI Incident Database snapshot: the CSV files of its weekly
 * backups (https://incidentdatabase.ai/research/snapshots/), as AIID's
 * `site/db-backup/bin/backup.sh` writes them (responsible-ai-collaborative/aiid
 * 638678f; test/fixtures/aiid/README.md has the details):
 *
 *     incidents.csv     mongoexport CSV: _id,incident_id,date,reports,Alleged deployer of AI system,
 *                       Alleged developer of AI system,Alleged harmed or nearly harmed parties,description,title
 *                       (array cells are compact JSON: "[""navya""]", "[3,4]")
 *     reports.csv       convert_json_to_csv.py (QUOTE_ALL, escapechar "\", lists joined by ", "):
 *                       _id,authors,…,report_number,source_domain,submitters,text,title,url,tags
 *     duplicates.csv    duplicate_incident_number,true_incident_number
 *     classifications_<namespace>.csv  taxonomy_csv_export.py: Namespace,Incident ID,Published,<field short names>
 *
 * A file that does not parse as CSV, or whose header lacks a column the
 * import needs, is a typed error (`AIID_CSV_MALFORMED`, naming the file and
 * line): nothing is imported. A row that parses but cannot be used (wrong
 * number of cells, an incident number that is not one, an array cell that
 * is not JSON, a date that is not a date) is kept as a problem with its file
 * and line; the import skips what depends on it and reports it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../exit.js';

/** Largest CSV file read (AIID's reports.csv, with every report's full text, is ~150 MB in 2026). */
export const MAX_CSV_BYTES = 512 * 1024 * 1024;

export interface Row {
  /** 1-based line of the file where the row starts. */
  readonly line: number;
  readonly cells: readonly string[];
}

export interface Table {
  readonly file: string;
  readonly header: readonly string[];
  readonly rows: readonly Row[];
}

/** A row the import cannot use: where, and why. */
export interface RowProblem {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  /** The AIID incident it belongs to, when known. */
  readonly incident?: number;
}

export interface AiidIncident {
  readonly id: number;
  readonly from: string;
  readonly date: string;
  readonly reports: readonly number[];
  readonly deployers: readonly string[];
  readonly developers: readonly string[];
  readonly harmed: readonly string[];
  readonly description: string;
  readonly title: string;
}

export interface AiidReport {
  readonly number: number;
  readonly title: string;
  readonly url: string;
  readonly sourceDomain: string;
  readonly datePublished: string;
  readonly language: string;
  readonly authors: string;
  readonly text: string;
}

/** One published classification of one incident: field short name → cell (the first column of a repeated name). */
export interface Classification {
  readonly namespace: string;
  readonly from: string;
  readonly values: ReadonlyMap<string, string>;
}

export interface Snapshot {
  readonly incidents: readonly AiidIncident[];
  readonly reports: ReadonlyMap<number, AiidReport>;
  /** Duplicate incident number → the true incident number. */
  readonly duplicates: ReadonlyMap<number, number>;
  /** Incident number → its published classifications, by namespace. */
  readonly classifications: ReadonlyMap<number, readonly Classification[]>;
  readonly problems: readonly RowProblem[];
  /** The files read. */
  readonly files: readonly string[];
}

const malformed = (msg: string) => new UsageError(msg, 'AIID_CSV_MALFORMED');

/**
 * Parses CSV text (RFC 4180 as both writers produce it: quoted cells with
 * doubled quotes, CRLF or LF, multi-line cells).
 * @throws UsageError `AIID_CSV_MALFORMED` (file:line) when it does not parse or has no header.
 */
export function parseTable(text: string, file: string): Table {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, relax_column_count: true, info: true, skip_empty_lines: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw malformed(`${file}${line !== undefined ? `:${line}` : ''}: ${(e as Error).message.replace(/^Invalid Record Length: /, '')}`);
  }
  const first = records[0];
  if (!first) throw malformed(`${file}: empty: no header line`);
  let prevEnd = first.info.lines;
  const rows: Row[] = [];
  for (const r of records.slice(1)) {
    // info.lines is the line the record ends on; it starts on the line after the previous record's end.
    rows.push({ line: prevEnd + 1, cells: r.record });
    prevEnd = r.info.lines;
  }
  return { file, header: first.record, rows };
}

/** Index of each wanted column (the first of a repeated name). @throws AIID_CSV_MALFORMED when one is missing. */
export function columnsOf(t: Table, wanted: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of wanted) {
    const i = t.header.indexOf(w);
    if (i < 0) throw malformed(`${t.file}:1: no "${w}" column: this is not an AIID snapshot file of that kind (header: ${t.header.slice(0, 6).join(',')}${t.header.length > 6 ? ',…' : ''})`);
    out[w] = i;
  }
  return out;
}

function readTable(path: string): Table {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`, 'FILE_UNREADABLE');
  }
  if (size > MAX_CSV_BYTES) throw new UsageError(`${path} is ${size} bytes: at most ${MAX_CSV_BYTES} per file`, 'IMPORT_TOO_LARGE');
  const bytes = readFileSync(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed(`${basename(path)}: not UTF-8 text`);
  }
  return parseTable(text, basename(path));
}

/** A cell mongoexport wrote for an array: compact JSON (`["a","b"]`, `[1,2]`), or empty. */
function jsonArray(cell: string, where: string): unknown[] {
  if (cell.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(cell);
  } catch {
    throw new Error(`${where} is not a JSON array: ${cell.slice(0, 40)}`);
  }
  if (!Array.isArray(v)) throw new Error(`${where} is not a JSON array: ${cell.slice(0, 40)}`);
  return v;
}
const strings = (xs: unknown[], where: string): string[] => xs.map((x) => {
  if (typeof x !== 'string') throw new Error(`${where} holds a non-string`);
  return x;
});
const numbers = (xs: unknown[], where: string): number[] => xs.map((x) => {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new Error(`${where} holds a non-integer`);
  return x;
});
const incidentNumber = (s: string): number | undefined => (/^[1-9][0-9]{0,8}$/.test(s.trim()) ? Number(s.trim()) : undefined);
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The files of a snapshot given as directories and/or files; a directory holding mongodump_full_snapshot/ is read there. */
export function snapshotFiles(inputs: readonly string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) throw new UsageError(`${input}: no such file or directory`, 'FILE_UNREADABLE');
    if (statSync(input).isDirectory()) {
      const inner = join(input, 'mongodump_full_snapshot');
      const dir = existsSync(inner) && statSync(inner).isDirectory() ? inner : input;
      for (const f of readdirSync(dir).sort()) if (/^(incidents|reports|duplicates|classifications_[A-Za-z0-9_-]+)\.csv$/.test(f)) files.push(join(dir, f));
    } else files.push(input);
  }
  return files;
}

/**
 * Reads a snapshot.
 * @param inputs directories and/or CSV files (incidents.csv is required).
 * @param namespaces the classification namespaces to read (the map's); others are left alone.
 * @param onFile called as each file is read (a progress bar).
 */
export function readSnapshot(inputs: readonly string[], namespaces: ReadonlySet<string>, onFile: (file: string) => void = () => {}): Snapshot {
  const files = snapshotFiles(inputs);
  const byName = new Map(files.map((f) => [basename(f), f]));
  const incidentsFile = byName.get('incidents.csv');
  if (!incidentsFile) throw new UsageError(`no incidents.csv among ${inputs.join(', ')}: give the snapshot directory (mongodump_full_snapshot) or its CSV files`, 'FILE_UNREADABLE');
  const problems: RowProblem[] = [];

  onFile('incidents.csv');
  const it = readTable(incidentsFile);
  const ic = columnsOf(it, ['incident_id', 'date', 'reports', 'Alleged deployer of AI system', 'Alleged developer of AI system', 'Alleged harmed or nearly harmed parties', 'description', 'title']);
  const incidents: AiidIncident[] = [];
  for (const r of it.rows) {
    const at = `incidents.csv:${r.line}`;
    const id = incidentNumber(r.cells[ic['incident_id']!] ?? '');
    if (r.cells.length !== it.header.length) {
      problems.push({ file: 'incidents.csv', line: r.line, reason: `${r.cells.length} cells, the header has ${it.header.length}`, ...(id !== undefined ? { incident: id } : {}) });
      continue;
    }
    const cell = (name: string) => r.cells[ic[name]!]!;
    try {
      if (id === undefined) throw new Error(`incident_id "${cell('incident_id')}" is not an incident number`);
      const date = cell('date').trim();
      if (!DAY.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) throw new Error(`date "${date}" is not YYYY-MM-DD`);
      incidents.push({
        id,
        from: at,
        date,
        reports: numbers(jsonArray(cell('reports'), 'reports'), 'reports'),
        deployers: strings(jsonArray(cell('Alleged deployer of AI system'), 'Alleged deployer of AI system'), 'deployers'),
        developers: strings(jsonArray(cell('Alleged developer of AI system'), 'Alleged developer of AI system'), 'developers'),
        harmed: strings(jsonArray(cell('Alleged harmed or nearly harmed parties'), 'Alleged harmed or nearly harmed parties'), 'harmed parties'),
        description: cell('description'),
        title: cell('title'),
      });
    } catch (e) {
      problems.push({ file: 'incidents.csv', line: r.line, reason: (e as Error).message, ...(id !== undefined ? { incident: id } : {}) });
    }
  }

  const reports = new Map<number, AiidReport>();
  const reportsFile = byName.get('reports.csv');
  if (reportsFile) {
    onFile('reports.csv');
    const rt = readTable(reportsFile);
    const rc = columnsOf(rt, ['report_number', 'title', 'url', 'source_domain', 'date_published', 'language', 'authors', 'text']);
    // convert_json_to_csv.py sets escapechar "\\": Python (3.10+) doubles it in text; quotes are doubled as usual.
    const unescape = (s: string) => s.replaceAll('\\\\', '\\');
    for (const r of rt.rows) {
      if (r.cells.length !== rt.header.length) {
        problems.push({ file: 'reports.csv', line: r.line, reason: `${r.cells.length} cells, the header has ${rt.header.length}` });
        continue;
      }
      const cell = (name: string) => unescape(r.cells[rc[name]!]!);
      const n = incidentNumber(cell('report_number'));
      if (n === undefined) {
        problems.push({ file: 'reports.csv', line: r.line, reason: `report_number "${cell('report_number')}" is not a number` });
        continue;
      }
      reports.set(n, { number: n, title: cell('title'), url: cell('url'), sourceDomain: cell('source_domain'), datePublished: cell('date_published'), language: cell('language'), authors: cell('authors'), text: cell('text') });
    }
  }

  const duplicates = new Map<number, number>();
  const dupFile = byName.get('duplicates.csv');
  if (dupFile) {
    onFile('duplicates.csv');
    const dt = readTable(dupFile);
    const dc = columnsOf(dt, ['duplicate_incident_number', 'true_incident_number']);
    for (const r of dt.rows) {
      const d = incidentNumber(r.cells[dc['duplicate_incident_number']!] ?? '');
      const t = incidentNumber(r.cells[dc['true_incident_number']!] ?? '');
      if (d === undefined || t === undefined || r.cells.length !== dt.header.length) problems.push({ file: 'duplicates.csv', line: r.line, reason: 'not two incident numbers' });
      else duplicates.set(d, t);
    }
  }

  const classifications = new Map<number, Classification[]>();
  for (const [name, path] of byName) {
    const m = /^classifications_(.+)\.csv$/.exec(name);
    if (!m || !namespaces.has(m[1]!)) continue;
    onFile(name);
    const ct = readTable(path);
    const cc = columnsOf(ct, ['Namespace', 'Incident ID', 'Published']);
    for (const r of ct.rows) {
      if (r.cells.length !== ct.header.length) {
        problems.push({ file: name, line: r.line, reason: `${r.cells.length} cells, the header has ${ct.header.length}` });
        continue;
      }
      const id = incidentNumber(r.cells[cc['Incident ID']!]!);
      if (id === undefined) {
        problems.push({ file: name, line: r.line, reason: `Incident ID "${r.cells[cc['Incident ID']!]}" is not an incident number` });
        continue;
      }
      // Unpublished classifications are AIID editors' drafts.
      if (r.cells[cc['Published']!]!.trim().toLowerCase() !== 'true') continue;
      const values = new Map<string, string>();
      ct.header.forEach((h, k) => {
        if (!values.has(h)) values.set(h, r.cells[k]!);
      });
      classifications.set(id, [...(classifications.get(id) ?? []), { namespace: m[1]!, from: `${name}:${r.line}`, values }]);
    }
  }
  return { incidents, reports, duplicates, classifications, problems, files: [...byName.keys()] };
}
