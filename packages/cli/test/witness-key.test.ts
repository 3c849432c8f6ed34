/**
 * witness.key (issue 11): the witness's own cosigning key, encrypted like
 * keys.enc with the same passphrase; `unlockKeys` hands it to the node as
 * `keys.witness` when the data directory has one, and nothing otherwise.
 * Each bad file is a typed error code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SIG_TYPE_COSIGNATURE_V1, formatSignerKey, generateSignerKey } from '@parley/core/node';
import { nodeKeys, openWitnessKeyFile, sealKeyFile, sealWitnessKeyFile } from '../src/keyfile.js';
import { unlockKeys } from '../src/secrets.js';

const N = 2 ** 10; // cheap scrypt for tests; the file records its own cost
const PASS = 'correct horse battery staple';
const dir = mkdtempSync(join(tmpdir(), 'parley-witness-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('witness.key', () => {
  const witness = generateSignerKey('us.parley.test/witness', SIG_TYPE_COSIGNATURE_V1);

  it('round-trips a cosignature/v1 key under the passphrase', async () => {
    const text = await sealWitnessKeyFile(witness, PASS, N);
    expect(text).not.toContain(formatSignerKey(witness));
    expect(formatSignerKey(await openWitnessKeyFile(text, PASS, 'witness.key'))).toBe(formatSignerKey(witness));
  });

  it('refuses a wrong passphrase (PASSPHRASE_WRONG), a tampered file, an Ed25519 log key or garbage (KEY_FILE_UNREADABLE)', async () => {
    const text = await sealWitnessKeyFile(witness, PASS, N);
    await expect(openWitnessKeyFile(text, 'wrong passphrase!', 'witness.key')).rejects.toMatchObject({ code: 'PASSPHRASE_WRONG' });
    const o = JSON.parse(text) as { ciphertext: string };
    const ct = Buffer.from(o.ciphertext, 'base64');
    ct[0] = ct[0]! ^ 1;
    await expect(openWitnessKeyFile(JSON.stringify({ ...o, ciphertext: ct.toString('base64') }), PASS, 'witness.key')).rejects.toMatchObject({ code: 'PASSPHRASE_WRONG' });
    const log = generateSignerKey('us.parley.test/log');
    await expect(openWitnessKeyFile(await sealWitnessKeyFile(log, PASS, N), PASS, 'witness.key')).rejects.toMatchObject({ code: 'KEY_FILE_UNREADABLE' });
    await expect(openWitnessKeyFile('not json', PASS, 'witness.key')).rejects.toMatchObject({ code: 'KEY_FILE_UNREADABLE' });
  });

  it('unlockKeys adds it to the node keys when the data directory has one, and only then', async () => {
    const log = generateSignerKey('us.parley.test/log');
    writeFileSync(join(dir, 'keys.enc'), await sealKeyFile({ log, hpkeSeed: new Uint8Array(32).fill(7) }, PASS, N));
    const passFile = join(dir, 'pass');
    writeFileSync(passFile, PASS);
    expect(nodeKeys(await unlockKeys(dir, passFile)).witness).toBeUndefined();
    writeFileSync(join(dir, 'witness.key'), await sealWitnessKeyFile(witness, PASS, N));
    const keys = nodeKeys(await unlockKeys(dir, passFile));
    expect(formatSignerKey(keys.witness!)).toBe(formatSignerKey(witness));
    expect(formatSignerKey(keys.log)).toBe(formatSignerKey(log));
  });
});
