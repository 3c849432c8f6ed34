/**
 * `node --import ./record-modules.mjs …`: appends the URL of every module
 * the process loads through the ES module loader (its own files, packages,
 * and CommonJS packages imported from ES modules, such as better-sqlite3 and
 * fastify) to the file named by $PARLEY_MODULES_FILE, one per line, and at
 * exit Node's own modules it loaded, as `node:internal/…` (from
 * process.moduleLoadList; e.g. node:internal/deps/undici/undici, which fetch
 * loads). startup.test.ts uses it to check which packages a command loads.
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';

const file = process.env.PARLEY_MODULES_FILE;
if (!file) throw new Error('record-modules.mjs: set PARLEY_MODULES_FILE');
register('./record-modules-hooks.mjs', import.meta.url, { data: { file } });
process.on('exit', () => {
  const internal = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
  appendFileSync(file, internal.map((m) => `${m}\n`).join(''));
});
