/**
 * `parley export stix`: incidents as STIX 2.1 bundles, read from the node
 * with the officer's session (GET /v1/incidents/{id}/stix), so the file holds
 * exactly what this officer's role may read — never a sealed body opened
 * from the data directory.
 *
 *     parley export stix --incident US:2026-0007 [--out FILE]
 *     parley export stix --all [--out FILE]      every incident the role may read, one bundle
 *
 * One incident: the node's bytes as it sent them. `--all` pages through
 * GET /v1/incidents, fetches each bundle, and merges them with core's
 * stixBundle (one version per object id, the latest; deterministic bundle
 * id); incidents none of whose reports the role can read (403 STIX_SEALED)
 * are left out and counted. The file is written atomically (a temporary
 * file renamed over it).
 */
import { resolve } from 'node:path';
import { INCIDENT_ID } from '@parley/core';
import { type StixBundle, type StixObject, stixBundle } from '@parley/core/stix';
import { client, type ClientOpts } from '../client.js';
import { EXIT_OK, NodeRefused, UsageError } from '../exit.js';
import { writeFileAtomic } from '../datadir.js';

export interface StixExportOpts extends ClientOpts {
  incident?: string;
  all?: boolean;
  out?: string;
}

const PAGE = 200;

/** Every incident id the role sees (GET /v1/incidents, all pages). */
export async function incidentIds(c: ReturnType<typeof client>): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = (await c.get(`/v1/incidents?limit=${PAGE}${before !== undefined ? `&before=${encodeURIComponent(before)}` : ''}`)) as { items: { incident: string }[]; next?: string };
    ids.push(...page.items.map((i) => i.incident));
    if (page.next === undefined) break;
    before = page.next;
  }
  return ids;
}

export async function exportStix(o: StixExportOpts): Promise<number> {
  if ((o.incident === undefined) === (o.all !== true)) throw new UsageError('say which incidents: --incident ID (e.g. US:2026-0007) or --all');
  if (o.incident !== undefined && !INCIDENT_ID.test(o.incident)) throw new UsageError(`--incident "${o.incident}" is not an incident id (PARTY:local-id, e.g. US:2026-0007)`);
  const c = client(o);
  let bytes: Uint8Array;
  let summary: { incidents: string[]; sealed: string[]; objects: number; bundle: string };
  if (o.incident !== undefined) {
    const r = await c.getBytes(`/v1/incidents/${encodeURIComponent(o.incident)}/stix`);
    bytes = r.bytes;
    const b = JSON.parse(new TextDecoder().decode(bytes)) as StixBundle;
    summary = { incidents: [o.incident], sealed: [], objects: b.objects.length, bundle: b.id };
  } else {
    const objects: StixObject[] = [];
    const incidents: string[] = [];
    const sealed: string[] = [];
    for (const id of await incidentIds(c)) {
      try {
        const b = (await c.get(`/v1/incidents/${encodeURIComponent(id)}/stix`)) as StixBundle;
        objects.push(...b.objects);
        incidents.push(id);
      } catch (e) {
        if (e instanceof NodeRefused && e.code === 'STIX_SEALED') sealed.push(id);
        else throw e;
      }
    }
    if (incidents.length === 0) throw new UsageError(`no incident is readable by your role on ${c.url}${sealed.length > 0 ? ` (${sealed.length} sealed from it)` : ''}: nothing to export`, 'STIX_SEALED');
    const b = stixBundle(objects);
    bytes = new TextEncoder().encode(JSON.stringify(b));
    summary = { incidents, sealed, objects: b.objects.length, bundle: b.id };
  }
  const human = `${summary.objects} STIX objects of ${summary.incidents.length} incident${summary.incidents.length === 1 ? '' : 's'}${summary.sealed.length > 0 ? ` (${summary.sealed.length} sealed from your role, left out: ${summary.sealed.join(', ')})` : ''}`;
  if (o.out === undefined) {
    process.stdout.write(bytes);
    process.stdout.write('\n');
    process.stderr.write(`${human}\n`);
  } else {
    writeFileAtomic(resolve(o.out), bytes, 0o644);
    if (o.json === true) process.stdout.write(`${JSON.stringify({ ok: true, file: resolve(o.out), ...summary })}\n`);
    else process.stderr.write(`wrote ${human} to ${resolve(o.out)}\n`);
  }
  return EXIT_OK;
}
