/**
 * Where the CLI finds the dashboard: `--web DIR`, `--no-web`, else the
 * built dist of an installed `@parley/web` (found through node_modules the
 * way the workspace links it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultWebRoot, webRootOf } from '../src/web.js';

const tmp = mkdtempSync(join(tmpdir(), 'parley-web-root-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the dashboard\u2019s web root', () => {
  it('is the dist of @parley/web in the nearest node_modules once built, and none before', () => {
    const pkg = join(tmp, 'node_modules', '@parley', 'web');
    const deep = join(tmp, 'packages', 'cli', 'dist');
    mkdirSync(pkg, { recursive: true });
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"@parley/web"}');
    expect(defaultWebRoot(deep)).toBeUndefined();
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist', 'index.html'), '<!doctype html>');
    expect(defaultWebRoot(deep)).toBe(join(pkg, 'dist'));
    expect(defaultWebRoot('/')).toBeUndefined();
  });

  it('follows --web DIR and --no-web; a DIR without index.html is a usage error', () => {
    const dir = join(tmp, 'built');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    expect(webRootOf(dir)).toBe(dir);
    expect(webRootOf(false)).toBeUndefined();
    expect(() => webRootOf(join(tmp, 'missing'))).toThrow(expect.objectContaining({ name: 'UsageError' }));
  });
});
