/**
 * CSV (RFC 4180) of what a table shows, for the download beside each chart:
 * CRLF line ends, fields quoted when they hold a comma, quote, CR or LF, and
 * quotes doubled. A leading =, +, - or @ is prefixed with a single quote so a
 * spreadsheet does not run a cell as a formula (OWASP "CSV injection"); plain
 * numbers are left alone.
 */
import { saveFile } from '../../download.js';

export type Cell = string | number | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA = /^[=+\-@\t\r]/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** One field, escaped. */
export function csvField(v: Cell): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  if (typeof v === 'string' && FORMULA.test(s) && !NUMBER.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A whole document: a header row, then the rows, each line ending in CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',') + '\r\n').join('');
}

/** Offers `text` as a file download (UTF-8 with BOM so spreadsheets read Chinese correctly). */
export function downloadCsv(filename: string, text: string): void {
  saveFile(filename, new Blob(['\uFEFF', text], { type: 'text/csv;charset=utf-8' }));
}
