/**
 * `node --import ./record-modules.mjs …`: appends the URL of every module
 * the process loads through the ES module loader (its own files, packages,
 * and CommonJS packages imported from ES modules, such as better-sqlite3 and
 * fastify) to the file named by $PARLEY_MODULES_FILE, one per line.
 * startup.test.ts uses it to check which packages a command loads.
 */
import { register } from 'node:module';

const file = process.env.PARLEY_MODULES_FILE;
if (!file) throw new Error('record-modules.mjs: set PARLEY_MODULES_FILE');
register('./record-modules-hooks.mjs', import.meta.url, { data: { file } });
