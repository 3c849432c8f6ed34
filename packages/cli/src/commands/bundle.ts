/**
 * `parley bundle export | import | inspect`: offline bundles, for carrying
 * entries across an air gap (format: core federation/bundle.ts).
 *
 *     export   POST /v1/bundles/export on the running node → the file, written
 *              byte for byte (atomically, mode 0600); its SHA-256 is checked
 *              against the node's Repr-Digest
 *     import   POST /v1/bundles/import (admin): the node verifies and ingests
 *              it exactly as network delivery would, and writes receipts
 *     inspect  verifies a bundle offline with the accord alone (no node)
 *
 * Export and import go through the node's API because `parley serve` owns the
 * store's writer. Exit status: 0 done / valid; 1 the bundle fails
 * verification (BUNDLE_INVALID, BUNDLE_MALFORMED, INPUT_TOO_LARGE); 2
 * unusable arguments, an unreachable node, a transfer that does not match
 * its digest, or any other refusal (a role that may not, an empty log …).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  MAX_BUNDLE_BYTES,
  PARTY_ID,
  ParleyError,
  type SignedAccord,
  type VerifiedAccord,
  decodeUtf8,
  fail,
  formatBase64,
  openBundle,
  parseCheckpoint,
  parseNote,
  verifyAccord,
} from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { progressBar } from '../progress.js';
import { parseIndexArg } from '../hashes.js';
import { type ClientOpts, NodeRefused, client, clientOptions } from '../client.js';
import { DATA_FLAGS, DATA_HELP, dataDir, paths, readAccordFile, readConfig, readInstalledAccord, writeFileAtomic } from '../datadir.js';

/** Codes that mean "this file is not a bundle that verifies here": exit 1. */
const VERIFY_CODES: readonly string[] = ['BUNDLE_INVALID', 'BUNDLE_MALFORMED', 'INPUT_TOO_LARGE'];

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function partyArg(s: string, what: string): string {
  if (!PARTY_ID.test(s)) throw new UsageError(`${what} "${s}" is not a party id (e.g. CN)`);
  return s;
}

/**
 * Reads a bundle file; more than {@link MAX_BUNDLE_BYTES} is refused before
 * reading it all (a ParseError: the file cannot be a bundle, exit 1).
 */
function readBundleFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UsageError(`cannot read bundle "${path}": ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 'FILE_UNREADABLE');
  }
  try {
    if (!fstatSync(fd).isFile()) throw new UsageError(`bundle "${path}" is not a regular file`, 'FILE_UNREADABLE');
    const buf = Buffer.alloc(MAX_BUNDLE_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_BUNDLE_BYTES) fail('INPUT_TOO_LARGE', `bundle "${path}" is larger than ${MAX_BUNDLE_BYTES} bytes`);
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  } finally {
    closeSync(fd);
  }
}

/** Entries and checkpoint size of a bundle we just received (the node made it; `inspect` is the check). */
function summary(bytes: Uint8Array): { from: string; to: string; entries: number; treeSize: number } {
  try {
    const v = JSON.parse(decodeUtf8(bytes, 'bundle')) as { from: string; to: string; entries: unknown[]; checkpoint: string };
    return { from: v.from, to: v.to, entries: v.entries.length, treeSize: parseCheckpoint(parseNote(v.checkpoint).text).treeSize };
  } catch (e) {
    return fail('BUNDLE_MALFORMED', `the node answered something that is not a bundle: ${(e as Error).message}`, e);
  }
}

/** The file name the node proposes, if it is one of ours (no paths, no surprises). */
function suggestedName(disposition: string | null): string | undefined {
  const m = /filename="(parley-[A-Z0-9]{2,16}-to-[A-Z0-9]{2,16}-[0-9]{1,16}\.bundle)"/.exec(disposition ?? '');
  return m?.[1];
}

/** RFC 9530 `sha-256=:<base64>:` from a Repr-Digest header. */
function reprDigest(header: string | null): string | undefined {
  return /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]+):/.exec(header ?? '')?.[1];
}

type ExportOpts = ClientOpts & { to: string; since?: string; until?: string; out?: string };

async function exportAction(o: ExportOpts): Promise<number> {
  const out = makeOut(o.json === true);
  const to = partyArg(o.to, '--to');
  const since = o.since === undefined ? undefined : parseIndexArg(o.since, '--since');
  const until = o.until === undefined ? undefined : parseIndexArg(o.until, '--until');
  if (since !== undefined && until !== undefined && until < since) throw new UsageError(`--until ${until} is before --since ${since}`);
  const c = client(o);
  const bar = await progressBar(out.json, 'bytes');
  bar.start(1, `the node at ${c.url} makes the bundle…`);
  let receiving = false;
  const { bytes, headers } = await c
    .download('/v1/bundles/export', { to, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) }, (received, total) => {
      if (!receiving) bar.start(total ?? received, 'receiving the bundle');
      receiving = true;
      bar.update(received);
    })
    .finally(() => bar.stop());
  const digest = createHash('sha256').update(bytes).digest();
  const claimed = reprDigest(headers.get('repr-digest'));
  // A transfer that lost or changed bytes: the node's fault or the network's, not the file's (2).
  if (claimed !== undefined && claimed !== formatBase64(digest)) throw new UsageError('the file received does not match the SHA-256 the node sent (Repr-Digest): nothing written; export again');
  const s = summary(bytes);
  const file = resolve(o.out ?? suggestedName(headers.get('content-disposition')) ?? `parley-${s.from}-to-${to}-${s.treeSize}.bundle`);
  writeFileAtomic(file, bytes, 0o600);
  const sha256 = digest.toString('hex');
  out.result({ file, from: s.from, to: s.to, entries: s.entries, checkpointSize: s.treeSize, bytes: bytes.length, sha256 }, [
    `Bundle ${s.from} → ${s.to} written to ${file}`,
    `  entries: ${s.entries}   checkpoint size: ${s.treeSize}   ${bytes.length} bytes`,
    `  sha-256: ${sha256}`,
  ]);
  return EXIT_OK;
}

interface ImportAnswer {
  from: string;
  checkpointSize: number;
  accepted: number;
  duplicates: number;
  receipts: { index: number; leafHash: string }[];
}

async function importAction(path: string, o: ClientOpts): Promise<number> {
  const out = makeOut(o.json === true);
  const bytes = readBundleFile(path);
  const c = client(o);
  const bar = await progressBar(out.json, 'bytes');
  bar.start(bytes.length, `sending ${path} to ${c.url}`);
  let r: ImportAnswer;
  try {
    r = (await c.postBytes('/v1/bundles/import', bytes, (sent, total) => bar.update(sent, sent < total ? undefined : 'the node verifies and stores it…'))) as ImportAnswer;
  } catch (e) {
    bar.stop();
    if (!(e instanceof NodeRefused) || !VERIFY_CODES.includes(e.code)) throw e;
    out.failure({ imported: false, file: resolve(path), code: e.code, status: e.status, message: e.message }, `${e.message}: nothing was imported`);
    return EXIT_INVALID;
  }
  bar.stop();
  out.result({ imported: true, file: resolve(path), sha256: hex(bytes), ...r }, [
    `Bundle from ${r.from} (checkpoint size ${r.checkpointSize}): ${r.accepted} accepted, ${r.duplicates} duplicate${r.duplicates === 1 ? '' : 's'}`,
    ...r.receipts.map((x) => `  receipt logged at index ${x.index}  leaf hash ${x.leafHash}`),
  ]);
  return EXIT_OK;
}

type InspectOpts = { accord?: string; me?: string; data?: string; json?: boolean };

/** The accord and recipient to check against: flags, else the data directory's. */
function inspectContext(o: InspectOpts): { accord: VerifiedAccord; me: string } {
  let me: string;
  let signed: SignedAccord;
  if (o.accord !== undefined && o.me !== undefined) {
    me = partyArg(o.me, '--me');
    signed = readAccordFile(o.accord);
  } else {
    const dir = dataDir(o.data);
    if (!existsSync(paths(dir).config)) throw new UsageError('which accord and party? pass --accord FILE --me PARTY (or --data DIR of the recipient node)');
    const config = readConfig(dir);
    me = o.me !== undefined ? partyArg(o.me, '--me') : config.party;
    signed = o.accord !== undefined ? readAccordFile(o.accord) : readInstalledAccord(dir, config);
  }
  let accord: VerifiedAccord;
  try {
    accord = verifyAccord(signed);
  } catch (e) {
    if (!(e instanceof ParleyError)) throw e;
    throw new UsageError(`the accord does not verify: ${e.message} (${e.code})`);
  }
  if (!accord.party(me)) throw new UsageError(`${me} is not a party of the accord`);
  return { accord, me };
}

function inspectAction(path: string, o: InspectOpts): number {
  const out = makeOut(o.json === true);
  const { accord, me } = inspectContext(o);
  const bytes = readBundleFile(path);
  let b: ReturnType<typeof openBundle>;
  try {
    b = openBundle(bytes, accord, me);
  } catch (e) {
    if (!(e instanceof ParleyError)) throw e;
    out.failure({ valid: false, file: resolve(path), code: e.code, message: e.message }, `bundle does not verify: ${e.message} (${e.code})`);
    return EXIT_INVALID;
  }
  const partyOfKey = (name: string) => accord.accord.parties.find((p) => accord.party(p.id)!.logKey.name === name)?.id ?? name;
  const cp = b.checkpoint;
  const entries = b.entries.map((e) => ({
    index: e.index,
    leafHash: formatBase64(e.leafHash),
    type: e.entry.type,
    precedence: e.entry.precedence,
    marking: e.entry.marking,
    time: e.entry.time,
    to: [...e.entry.to],
    officer: e.entry.from.officer,
    sealed: 'sealed' in e.entry.body,
  }));
  const cosigned = cp.cosignatures.map((c) => ({ party: partyOfKey(c.name), time: new Date(c.timestamp * 1000).toISOString() }));
  const data = {
    valid: true,
    file: resolve(path),
    sha256: hex(bytes),
    accord: b.accordId,
    from: b.from,
    to: b.to,
    created: b.created,
    checkpoint: { origin: cp.checkpoint.origin, treeSize: cp.checkpoint.treeSize, rootHash: formatBase64(cp.checkpoint.rootHash), cosigned },
    entries,
  };
  const rows = entries.map((e) => [String(e.index), e.type, e.precedence, e.marking, e.time, e.to.join(','), e.sealed ? 'sealed' : 'clear']);
  const head = ['INDEX', 'TYPE', 'PRECEDENCE', 'MARKING', 'TIME', 'TO', 'BODY'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  out.result(data, [
    `Valid bundle ${b.from} → ${b.to}, made ${b.created}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, signatures and inclusion proofs verified`,
    `  checkpoint: ${cp.checkpoint.origin} size ${cp.checkpoint.treeSize}${cosigned.length ? `, cosigned by ${cosigned.map((c) => `${c.party} at ${c.time}`).join(', ')}` : ', no cosignatures'}`,
    `  sha-256: ${data.sha256}`,
    ...(rows.length ? ['', fmt(head), ...rows.map(fmt)] : []),
  ]);
  return EXIT_OK;
}

export function registerBundle(program: Command): void {
  const bundle = program
    .command('bundle')
    .description('offline bundles: carry signed entries, their checkpoint and inclusion proofs to another party across an air gap');

  clientOptions(
    bundle
      .command('export')
      .description("write a signed bundle of this party's entries for one party, made by the running node")
      .requiredOption('--to <party>', 'recipient party: only entries addressed to it')
      .option('--since <n>', 'first index of our log (default 0)')
      .option('--until <n>', 'stop before this index (default: the latest checkpoint)')
      .option('--out <file>', 'write here (default: the name the node proposes, parley-FROM-to-TO-SIZE.bundle)'),
  )
    .addHelpText('after', '\nThe file is written atomically with mode 0600, byte for byte: do not re-encode it.\n\nExample:\n  $ parley bundle export --to CN --since 120 --data us')
    .action(act(exportAction));

  clientOptions(
    bundle
      .command('import')
      .description('hand a bundle from another party to the running node (admin): verified and ingested as if it came over the network')
      .argument('<file>', 'the bundle file'),
  )
    .addHelpText('after', '\nExit status: 0 imported (a repeat is all duplicates), 1 the bundle does not verify (nothing stored), 2 unusable arguments or node.\n\nExample:\n  $ parley bundle import parley-US-to-CN-125.bundle --data cn')
    .action(act(importAction));

  bundle
    .command('inspect')
    .description('verify a bundle offline with the accord alone and list its entries (no node needed)')
    .argument('<file>', 'the bundle file')
    .option('--accord <file>', "the signed accord (default: the data directory's)")
    .option('--me <party>', "the recipient party the bundle must be for (default: the data directory's party)")
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit status: 0 valid, 1 does not verify, 2 unusable arguments.\n\nExample:\n  $ parley bundle inspect parley-US-to-CN-125.bundle --accord accord.json --me CN')
    .action(act(inspectAction));
}
