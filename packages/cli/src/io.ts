/** Reading inputs and printing results the same way in every command. */
import { readFileSync } from 'node:fs';
import { UsageError } from './exit.js';
import { failureJson } from './output.js';

/** Largest input file a command reads (notes and proofs are tiny). */
const MAX_INPUT = 16 * 1024 * 1024;

/** Reads a file, or standard input for `-`. */
export function readInput(path: string, what: string): Uint8Array {
  let data: Buffer;
  try {
    data = readFileSync(path === '-' ? 0 : path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`cannot read ${what} ${path === '-' ? 'from standard input' : `"${path}"`}: ${code}`, 'FILE_UNREADABLE');
  }
  if (data.length > MAX_INPUT) throw new UsageError(`${what} is larger than ${MAX_INPUT} bytes`, 'FILE_UNREADABLE');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Output mode shared by every command: human lines or one JSON object. */
export interface Out {
  readonly json: boolean;
  /** Prints a result: `human` lines, or `data` as JSON. */
  result(data: Record<string, unknown>, human: string[]): void;
  /**
   * Prints a failure on stderr (human) or as JSON on stdout: `data` with
   * `ok: false` and `error` {code, type, title, detail} (output.ts); a string
   * `error` or `message` member of `data` becomes the detail.
   */
  failure(data: Record<string, unknown> & { code: string }, human: string): void;
}

export function makeOut(json: boolean): Out {
  return {
    json,
    result(data, human) {
      if (json) process.stdout.write(`${JSON.stringify(data)}\n`);
      else for (const line of human) process.stdout.write(`${line}\n`);
    },
    failure(data, human) {
      if (json) process.stdout.write(`${JSON.stringify(failureJson(data, human))}\n`);
      else process.stderr.write(`parley: ${human}\n`);
    },
  };
}
