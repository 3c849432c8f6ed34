/**
 * Offline bundles between real nodes on SQLite files: US writes to CN and EU,
 * exports a bundle per recipient, and each imports its own exactly as network
 * delivery would (receipts included); a repeat is all duplicates, and a
 * tampered or misaddressed file stores nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyError, encodeUtf8, openBundle } from '@parley/core/node';
import { type IncidentReport, exportBundle, importBundle } from '../src/index.js';
import { openChannel } from './helpers/channel.js';

const report: IncidentReport = {
  incident: 'US:2026-0042',
  kind: 'initial',
  title: 'Model weights exfiltrated',
  summary: 'Weights of a frontier model were copied to an unknown host.',
  category: 'WT',
  severity: 4,
  stage: 'incident',
  system: { name: 'Frontier-1' },
  actor: { type: 'unknown' },
  harm: { types: ['security'] },
  mitigations: ['Rotated credentials'],
};

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function channel() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bundle-'));
  const ch = await openChannel(['CN', 'EU', 'US'], dir);
  cleanup = async () => {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const us = ch.node('US');
  const sent = {
    cn1: await us.sendMessage('alice', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'Link test: please acknowledge' }),
    eu1: await us.sendMessage('alice', { to: ['EU'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'For EU only' }),
    cnReport: await us.sendReport('alice', { to: ['CN'], marking: 'TLP:AMBER', report }),
    both: await us.sendMessage('alice', { to: ['CN', 'EU'], precedence: 'PRIORITY', marking: 'TLP:GREEN', text: 'To both' }),
    eu2: await us.sendMessage('alice', { to: ['EU'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'EU again' }),
  };
  return { ch, us, sent };
}

describe('offline bundles between nodes', () => {
  it('US exports to CN; CN imports: entries arrive, receipts are written, a repeat is all duplicates', async () => {
    const { ch, us, sent } = await channel();
    const cn = ch.node('CN');
    const file = await exportBundle(us, ch.store('US'), { to: 'CN', now: new Date('2026-11-27T08:00:00.000Z') });
    const peek = openBundle(file, cn.accord, 'CN');
    expect(peek.entries.map((e) => e.index)).toEqual([sent.cn1.index, sent.cnReport.index, sent.both.index]);
    expect(peek.checkpoint.checkpoint.treeSize).toBe(us.treeSize);

    const r = await importBundle(cn, file);
    expect(r).toMatchObject({ from: 'US', accepted: 3, duplicates: 0 });
    expect(r.receipts).toHaveLength(1);
    expect(r.receipts[0]!.entry.refs.map((x) => x.index)).toEqual([sent.cn1.index, sent.cnReport.index, sent.both.index]);
    expect(r.receipts[0]!.entry.precedence).toBe('FLASH');

    const inbox = await cn.inbox({ limit: 10 }, 'officer');
    expect(inbox.map((v) => v.index).sort()).toEqual([sent.cn1.index, sent.cnReport.index, sent.both.index].sort());
    // The sealed report opens for CN's officers, as if it had come over the network.
    expect((await cn.read('US', sent.cnReport.index, 'officer'))?.body).toMatchObject({ incident: 'US:2026-0042', severity: 4 });
    for (const s of [sent.cn1, sent.cnReport, sent.both]) expect((await cn.state('US', s.index)).receipt?.index).toBe(r.receipts[0]!.index);

    const again = await importBundle(cn, file);
    expect(again).toMatchObject({ accepted: 0, duplicates: 3, receipts: [] });
    expect(cn.treeSize).toBe(1); // one receipt, written once

    // The receipts travel back the same way: CN bundles its log for US.
    const back = await importBundle(us, await exportBundle(cn, ch.store('CN'), { to: 'US' }));
    expect(back).toMatchObject({ from: 'CN', accepted: 1, duplicates: 0, receipts: [] });
  });

  it('a bundle to EU holds only EU\'s entries, and only EU can import it', async () => {
    const { ch, us, sent } = await channel();
    const file = await exportBundle(us, ch.store('US'), { to: 'EU' });
    await expect(importBundle(ch.node('CN'), file)).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    expect(await ch.node('CN').inbox({ limit: 10 }, 'officer')).toHaveLength(0);
    const r = await importBundle(ch.node('EU'), file);
    expect(r.accepted).toBe(3);
    const got = (await ch.node('EU').inbox({ limit: 10 }, 'officer')).map((v) => v.index).sort();
    expect(got).toEqual([sent.eu1.index, sent.both.index, sent.eu2.index].sort());
    // The entry for both parties opens for EU too.
    expect((await ch.node('EU').read('US', sent.both.index, 'officer'))?.body).toEqual({ text: 'To both' });
  });

  it('exports a range [since, until) against the latest checkpoint', async () => {
    const { ch, us, sent } = await channel();
    const part = await exportBundle(us, ch.store('US'), { to: 'EU', since: sent.eu1.index + 1, until: sent.eu2.index });
    expect(openBundle(part, us.accord, 'EU').entries.map((e) => e.index)).toEqual([sent.both.index]);
    const beyond = await exportBundle(us, ch.store('US'), { to: 'EU', since: 100 });
    expect(openBundle(beyond, us.accord, 'EU').entries).toEqual([]);
    await expect(exportBundle(us, ch.store('US'), { to: 'EU', since: 3, until: 1 })).rejects.toMatchObject({ code: 'TREE_ARGUMENT_INVALID' });
    await expect(exportBundle(us, ch.store('US'), { to: 'US' })).rejects.toMatchObject({ code: 'BUNDLE_MALFORMED' });
    await expect(exportBundle(us, ch.store('US'), { to: 'FR' })).rejects.toMatchObject({ code: 'BUNDLE_MALFORMED' });
    // An empty log has no checkpoint to bundle.
    await expect(exportBundle(ch.node('EU'), ch.store('EU'), { to: 'US' })).rejects.toMatchObject({ code: 'TREE_ARGUMENT_INVALID' });
  });

  it('a tampered file is rejected and stores nothing', async () => {
    const { ch, us } = await channel();
    const cn = ch.node('CN');
    const file = await exportBundle(us, ch.store('US'), { to: 'CN' });
    const text = new TextDecoder().decode(file);
    const tampered = [
      (() => {
        const b = file.slice();
        b[Math.floor(b.length / 2)]! ^= 0x04;
        return b;
      })(),
      encodeUtf8(text.replace('"to":"CN"', '"to":"EU"')),
      encodeUtf8(text.replace(/"index":2,/, '"index":1,')),
      file.subarray(0, file.length - 1),
    ];
    for (const bad of tampered) expect(new TextDecoder().decode(bad)).not.toBe(text);
    for (const bad of tampered) {
      const err = await importBundle(cn, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParleyError);
    }
    expect(await cn.inbox({ limit: 10 }, 'officer')).toHaveLength(0);
    expect(cn.treeSize).toBe(0);
    // The untouched file still imports.
    expect((await importBundle(cn, file)).accepted).toBe(3);
  });
});
