#!/usr/bin/env node
// The `parley` command. The TypeScript sources are compiled by `npm install`
// (the root package's `prepare` script); this file only starts them.
import { run } from '../dist/main.js';

// A closed pipe (`parley … | head`) is not an error worth a stack trace.
// A terminal that hung up (EIO) has no reader either; a running node is then
// stopping on the SIGHUP that came with it, and must be let finish.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (e.code === 'EIO') return;
    throw e;
  });
}

process.exitCode = await run(process.argv);
