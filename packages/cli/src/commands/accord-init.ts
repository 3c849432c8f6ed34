/** `parley accord init`: an unsigned accord draft from every party's public material. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type AccordParty,
  type Precedence,
  type RedLine,
  PRECEDENCES,
  TAXONOMY_V1,
  accordId,
  defaultDeadlines,
  draftAccord,
  formatSignedAccord,
  isParleyError,
} from '@parley/core/node';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { readJsonFile, writeFileAtomic } from '../datadir.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const PARTY_FIELDS = ['id', 'names', 'urls', 'logKey', 'hpkeKey'];

interface InitOpts {
  name: string;
  partyFile: string[];
  titleEn?: string;
  titleZh?: string;
  heartbeat?: string;
  receipt?: string;
  ackFlash?: string;
  ackImmediate?: string;
  ackPriority?: string;
  ackRoutine?: string;
  redLine?: string[];
  redLines: boolean;
  quorum?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

/** A party file: what `parley init --json` prints ({id, names?, urls, logKey, hpkeKey}). */
function readParty(file: string): AccordParty {
  const v = readJsonFile(file, 'party file') as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`party file ${file} is not a JSON object`);
  const extra = Object.keys(v).filter((k) => !PARTY_FIELDS.includes(k));
  if (extra.length > 0) throw new UsageError(`party file ${file} has unknown fields ${extra.join(', ')} (want ${PARTY_FIELDS.join(', ')})`);
  const id = v['id'];
  if (typeof id !== 'string') throw new UsageError(`party file ${file} has no party id`);
  return { names: { en: id, 'zh-CN': id }, ...v } as unknown as AccordParty;
}

const seconds = (s: string | undefined, flag: string): number | undefined => (s === undefined ? undefined : parseIndexArg(s, flag));

function redLines(o: InitOpts): RedLine[] | undefined {
  if (!o.redLines) return [];
  if (o.redLine === undefined) return undefined;
  return o.redLine.map((r) => {
    const m = /^([A-Z]{2}):([0-7])$/.exec(r);
    if (!m || !TAXONOMY_V1.categories.some((c) => c.code === m[1])) {
      throw new UsageError(`--red-line "${r}" must be CATEGORY:MIN_SEVERITY with a taxonomy category code and a severity 0–7, e.g. WT:6`);
    }
    return { category: m[1]!, minSeverity: Number(m[2]) };
  });
}

function build(o: InitOpts) {
  const d = defaultDeadlines(TAXONOMY_V1);
  const ackFlags: Record<Precedence, string | undefined> = { FLASH: o.ackFlash, IMMEDIATE: o.ackImmediate, PRIORITY: o.ackPriority, ROUTINE: o.ackRoutine };
  const ackSeconds = Object.fromEntries(PRECEDENCES.map((p) => [p, seconds(ackFlags[p], `--ack-${p.toLowerCase()}`) ?? d.ackSeconds[p]])) as Record<Precedence, number>;
  const receipt = seconds(o.receipt, '--receipt');
  const heartbeat = seconds(o.heartbeat, '--heartbeat');
  const quorum = seconds(o.quorum, '--quorum');
  const lines = redLines(o);
  const parties = o.partyFile.map(readParty);
  try {
    return draftAccord({
      name: o.name,
      parties,
      deadlines: { ackSeconds, ...(receipt !== undefined ? { receiptSeconds: receipt } : {}) },
      ...(o.titleEn !== undefined ? { title: { en: o.titleEn, 'zh-CN': o.titleZh ?? o.titleEn } } : {}),
      ...(heartbeat !== undefined ? { heartbeatSeconds: heartbeat } : {}),
      ...(lines !== undefined ? { redLines: lines } : {}),
      ...(quorum !== undefined ? { amendmentQuorum: quorum } : {}),
    });
  } catch (e) {
    if (!isParleyError(e)) throw e;
    throw new UsageError(`cannot draft the accord: ${e.message} (${e.code})`);
  }
}

export function registerAccordInit(accord: Command): void {
  accord
    .command('init')
    .description("draft an unsigned accord from every party's public material (party.json / `parley init --json`)")
    .requiredOption('--name <name>', 'channel machine name, e.g. us-cn-ai-hotline (lowercase, digits, ".", "-")')
    .requiredOption('--party-file <file>', "a party's public material (repeat for every party, at least two)", collect)
    .option('--title-en <text>', 'title in English (default: "AI incident hotline")')
    .option('--title-zh <text>', 'title in Simplified Chinese (default: the English title)')
    .option('--heartbeat <seconds>', 'heartbeat interval (default 3600)')
    .option('--receipt <seconds>', 'machine receipt deadline (default: the taxonomy\'s, 60)')
    .option('--ack-flash <seconds>', 'acknowledgement deadline for FLASH (default: the taxonomy\'s)')
    .option('--ack-immediate <seconds>', 'acknowledgement deadline for IMMEDIATE')
    .option('--ack-priority <seconds>', 'acknowledgement deadline for PRIORITY')
    .option('--ack-routine <seconds>', 'acknowledgement deadline for ROUTINE')
    .option('--red-line <cat:sev>', 'a red line, e.g. WT:6 (repeatable; default: every catastrophic category at 6)', collect)
    .option('--no-red-lines', 'no red lines at all')
    .option('--quorum <k>', 'distinct parties needed to amend (default: all)')
    .option('--out <file>', 'where to write the draft', 'accord.json')
    .option('--force', 'overwrite --out if it exists')
    .option('--json', 'print {"id","out","parties"} as JSON')
    .addHelpText(
      'after',
      `
Then every party signs the same file in turn, and installs it once complete:
  $ parley accord sign accord.json --data us      (then CN, …)
  $ parley accord verify accord.json
  $ parley accord install accord.json --data us

Example:
  $ parley accord init --name us-cn-ai-hotline --party-file us.json --party-file cn.json --ack-flash 300`,
    )
    .action(
      act((o: InitOpts) => {
        if (o.partyFile.length < 2) throw new UsageError('an accord needs at least two parties: repeat --party-file');
        const out = resolve(o.out);
        if (existsSync(out) && !o.force) throw new UsageError(`${o.out} exists; pass --force to overwrite it or --out to choose another file`);
        const draft = build(o);
        writeFileAtomic(out, formatSignedAccord({ accord: draft, signatures: [] }), 0o644);
        const id = accordId(draft);
        makeOut(o.json === true).result({ id, out, parties: draft.parties.map((p) => p.id) }, [
          `Drafted ${o.out}: channel ${id}`,
          `  parties: ${draft.parties.map((p) => p.id).join(', ')}`,
          `Next: each party runs  parley accord sign ${o.out} --data DIR`,
        ]);
        return EXIT_OK;
      }),
    );
}
