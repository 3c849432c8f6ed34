/** Asserts on error class and stable code, never on message text (STYLE.md §8). */
import { expect } from 'vitest';
import { ParleyError, type ErrorCode } from '../../src/errors.js';

type ErrorClass = abstract new (...args: never[]) => ParleyError;

/** Runs `fn` and asserts it throws an instance of `cls` with `code`. */
export function assertThrowsCode(fn: () => unknown, cls: ErrorClass, code: ErrorCode): ParleyError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${cls.name} ${code}`).toBeInstanceOf(cls);
  expect((thrown as ParleyError).code).toBe(code);
  return thrown as ParleyError;
}

/** Runs `fn`; if it throws, the error must be a ParleyError (never a crash of another kind). */
export function onlyParleyErrors(fn: () => unknown): ParleyError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!(e instanceof ParleyError)) throw e;
    return e;
  }
}
