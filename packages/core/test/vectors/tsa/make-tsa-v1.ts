/**
 * Makes tsa-v1.json: real RFC 3161 tokens from OpenSSL's TSA (`openssl ts
 * -reply`, test/helpers/tsa.ts), pinned so core's verifier is checked
 * against fixed bytes without openssl (and in a browser): an EC P-256 TSA
 * signed directly by its root, and an RSA TSA under an intermediate CA with
 * an ESS SigningCertificate v1 (SHA-1) attribute. The expected values are
 * what `openssl ts -reply -text` prints for each token, independently of our
 * code. Regenerate only on purpose (the tokens change, the test must not):
 *
 *   npx tsx packages/core/test/vectors/tsa/make-tsa-v1.ts
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestTsa } from '../../helpers/tsa.js';

const note = 'parley.example/log/US\n42\nq6wSBzN9Hr4DU0rpGbn/Ka7gnJUfKQh9VY5yOcVmCvw=\n\n\u2014 parley.example/log/US Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';
const out: unknown[] = [];
for (const [id, opts] of [
  ['openssl-ec-direct', { name: 'tsa-ec', keyType: 'ec' }],
  ['openssl-rsa-intermediate-ess-v1', { name: 'tsa-rsa', keyType: 'rsa', chain: 'intermediate', essCertIdAlg: 'sha1', policy: '1.3.6.1.4.1.99999.3161.2' }],
] as const) {
  const tsa = await makeTestTsa({ ...opts, url: 'https://tsa.example/tsr', validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2036-01-01T00:00:00.000Z' });
  const { reply, token } = await tsa.stampData(note);
  writeFileSync(join(tsa.dir, 'vector.tsr'), reply);
  const text = execFileSync('openssl', ['ts', '-reply', '-in', 'vector.tsr', '-text'], { cwd: tsa.dir, env: { ...process.env, OPENSSL_CONF: join(tsa.dir, 'openssl.cnf') } }).toString();
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  // "Dec  4 05:30:00 2026 GMT" → ISO
  const genTime = new Date(field('Time stamp')).toISOString();
  out.push({
    id,
    source: `${execFileSync('openssl', ['version']).toString().trim()}: openssl ts -query -sha256 -cert, openssl ts -reply (test/helpers/tsa.ts options ${JSON.stringify(opts)})`,
    note,
    authority: tsa.authority,
    reply_b64: Buffer.from(reply).toString('base64'),
    token_b64: Buffer.from(token).toString('base64'),
    expected: { authority: opts.name, genTime, policy: field('Policy OID'), serial: field('Serial number').replace(/^0x/i, '').toLowerCase() },
  });
  await tsa.close();
}
writeFileSync(fileURLToPath(new URL('./tsa-v1.json', import.meta.url)), `${JSON.stringify({ vectors: out }, null, 2)}\n`);
