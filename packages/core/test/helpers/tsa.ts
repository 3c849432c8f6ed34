/**
 * A real RFC 3161 time-stamping authority for tests, made with `openssl`
 * (no mock): a throwaway CA and TSA certificate (extendedKeyUsage critical
 * timeStamping) made with `openssl req` / `openssl ca` in a temp dir, an
 * openssl config with a `[tsa]` section, and `openssl ts -reply` answering
 * each query. Every openssl call of the process runs through ONE promise
 * chain: `openssl ts -reply` increments a serial file without locking it.
 *
 * Usage (from any package's tests; vitest/tsx load it by relative path, it
 * imports nothing from Parley):
 *
 *     import { startTsaServer } from '../../core/test/helpers/tsa.js';
 *     const tsa = await startTsaServer({ name: 'tsa-a' });
 *     // tsa.url: POST application/timestamp-query → application/timestamp-reply (openssl's DER)
 *     // tsa.authority: the accord member {name, url, roots, policy, validFrom, validUntil}
 *     const accord = draftAccord({ ..., timestamping: { authorities: [tsa.authority], required: 1 } });
 *     ...
 *     await tsa.close();
 *
 * Variants (options): `certificate: 'expired'` (a TSA certificate valid only
 * in 2020; openssl ts still signs with it), `'no-eku'`, `'eku-not-critical'`,
 * `'eku-extra'` (timeStamping plus serverAuth) — openssl ts refuses to sign
 * with such certificates (it checks RFC 3161 §2.3 itself), so for those the
 * TSTInfo openssl ts made is re-signed by `openssl cms -sign -cades` (which
 * adds the ESS signingCertificateV2 attribute RFC 3161 §2.4.1 requires) with
 * the bad certificate; `untrusted: true` (the authority lists another CA's root);
 * `authorityPolicy` (the accord lists another policy than the TSA stamps
 * with); `validFrom`/`validUntil` (the accord's window, e.g. in the past).
 * `chain: 'intermediate'` (root → CA → TSA) or `'leaf-issued'` (root → a
 * non-CA certificate → TSA: refused); `noEss: true` (re-signed without the
 * ESS signing-certificate attribute); `essCertIdAlg: 'sha1'` (ESS v1);
 * `keyType: 'rsa'`. `server.failWith(503)` makes the HTTP server answer an
 * error until `failWith(undefined)`. A query with a policy the TSA does not
 * accept gets openssl's rejection (status 2), e.g. for TSA_REJECTED.
 * Roots are valid 2019..2049, TSA certificates 10 years from now.
 *
 * Needs `openssl` ≥ 1.1 on PATH (Debian's 3.0 has `ts` and `cms`).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TsaCertificateKind = 'valid' | 'expired' | 'no-eku' | 'eku-not-critical' | 'eku-extra';

export interface TestTsaOptions {
  /** Accord authority name (default `test-tsa`). */
  readonly name?: string;
  /** Key type of CA and TSA (default `ec`, P-256; `rsa` is 2048-bit). */
  readonly keyType?: 'ec' | 'rsa';
  /** The TSA certificate (default `valid`). */
  readonly certificate?: TsaCertificateKind;
  /** Policy OID the TSA stamps with (default {@link TEST_TSA_POLICY}). */
  readonly policy?: string;
  /** Policy the accord member lists (default: `policy`). */
  readonly authorityPolicy?: string;
  /** The accord member lists a different CA's root than the one that issued the TSA certificate. */
  readonly untrusted?: boolean;
  /** Accord window (defaults 2000-01-01 .. 2100-01-01). */
  readonly validFrom?: string;
  readonly validUntil?: string;
  /** ESS certificate id of openssl ts (default `sha256`: SigningCertificateV2; `sha1`: v1, RFC 2634). */
  readonly essCertIdAlg?: 'sha1' | 'sha256';
  /** Re-sign openssl ts's TSTInfo with `openssl cms` WITHOUT the ESS signing-certificate attribute (RFC 3161 §2.4.1 requires it). */
  readonly noEss?: boolean;
  /**
   * How the TSA certificate chains to the root (default `direct`): `intermediate` = root → CA → TSA
   * (the token carries the CA); `leaf-issued` = root → a non-CA timeStamping certificate → TSA (a
   * path RFC 5280 §6.1.4 (k) refuses: the middle certificate is no CA).
   */
  readonly chain?: 'direct' | 'intermediate' | 'leaf-issued';
  /** Authority URL in `authority` (startTsaServer sets its own). */
  readonly url?: string;
}

/** The accord member (`timestamping.authorities[]`) for a test TSA. */
export interface TestAuthority {
  readonly name: string;
  readonly url: string;
  readonly roots: string[];
  readonly policy: string;
  readonly validFrom: string;
  readonly validUntil: string;
}

export interface TestTsa {
  readonly dir: string;
  readonly authority: TestAuthority;
  /** DER of the CA certificate that issued the TSA certificate. */
  readonly caCertificate: Uint8Array;
  /** DER of the TSA (signer) certificate. */
  readonly tsaCertificate: Uint8Array;
  /** Answers a DER TimeStampReq with openssl's DER TimeStampResp (a rejection too, e.g. for an unaccepted policy). */
  stamp(query: Uint8Array): Promise<Uint8Array>;
  /** Convenience: `openssl ts -query -data` (SHA-256, certReq, with a nonce) then {@link stamp}; returns the reply and the bare token. */
  stampData(data: string | Uint8Array): Promise<{ reply: Uint8Array; token: Uint8Array }>;
  /** Removes the temp dir. */
  close(): Promise<void>;
}

export interface TsaServer {
  /** `http://127.0.0.1:PORT/tsa` */
  readonly url: string;
  /** The accord member, with `url` this server's. */
  readonly authority: TestAuthority;
  readonly tsa: TestTsa;
  /** Queries answered so far (granted or not). */
  readonly requests: () => number;
  /** Answer every request with this HTTP status (undefined: answer normally again). */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

export const TEST_TSA_POLICY = '1.3.6.1.4.1.99999.3161.1';

let chain: Promise<unknown> = Promise.resolve();

/** Runs openssl after every earlier call of this process has finished (the serial file is not locked). */
function openssl(args: readonly string[], cwd: string, input?: Uint8Array): Promise<Buffer> {
  const run = () =>
    new Promise<Buffer>((resolve, reject) => {
      const child = execFile('openssl', [...args], { cwd, encoding: 'buffer', env: { ...process.env, OPENSSL_CONF: join(cwd, 'openssl.cnf') }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`openssl ${args.join(' ')}: ${err.message}\n${stderr.toString()}`));
        else resolve(stdout);
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  const p = chain.then(run, run);
  chain = p.catch(() => undefined);
  return p;
}

function config(policy: string, essAlg: string): string {
  return `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Parley Test Root
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./ca.serial
default_md = sha256
policy = pol_any
unique_subject = no
copy_extensions = none
[ pol_any ]
commonName = supplied
[ tsa_valid ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa_no_eku ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa_eku_not_critical ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa_eku_extra ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa_section
[ tsa_section ]
dir = .
serial = ./tsa.serial
crypto_device = builtin
signer_cert = ./tsa.pem
certs = ./chain.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = ${policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = ${essAlg}
`;
}

function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** X.690 §8.1.3 definite length. */
function derLength(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

/** TimeStampResp { status { granted }, token } (RFC 3161 §2.4.2), for tokens re-signed by `openssl cms`. */
function grantedResponse(token: Uint8Array): Uint8Array {
  const status = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
  const len = derLength(status.length + token.length);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30]), len, status, token]));
}

async function newKey(dir: string, name: string, keyType: 'ec' | 'rsa'): Promise<void> {
  const alg = keyType === 'ec' ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  await openssl(['genpkey', ...alg, '-out', `${name}.key`], dir);
}

/** A self-signed root valid 2019..2049 (so it covers the 'expired' TSA certificate's 2020 too), via `openssl ca -selfsign` (req -x509 cannot backdate). */
async function newRoot(dir: string, name: string, cn: string, keyType: 'ec' | 'rsa'): Promise<void> {
  await newKey(dir, name, keyType);
  await openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`, '-config', 'openssl.cnf'], dir);
  await openssl(['ca', '-batch', '-selfsign', '-config', 'openssl.cnf', '-extensions', 'v3_ca', '-keyfile', `${name}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext', '-startdate', '20190101000000Z', '-enddate', '20490101000000Z'], dir);
}

async function issue(dir: string, name: string, cn: string, extensions: string, keyType: 'ec' | 'rsa', dates: readonly string[], issuer = 'root'): Promise<void> {
  await newKey(dir, name, keyType);
  await openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`, '-config', 'openssl.cnf'], dir);
  await openssl(['ca', '-batch', '-config', 'openssl.cnf', '-extensions', extensions, '-cert', `${issuer}.pem`, '-keyfile', `${issuer}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext', ...dates], dir);
}

/** Makes a test TSA in a fresh temp dir (see the module comment for the variants). */
export async function makeTestTsa(opts: TestTsaOptions = {}): Promise<TestTsa> {
  const keyType = opts.keyType ?? 'ec';
  const kind = opts.certificate ?? 'valid';
  const policy = opts.policy ?? TEST_TSA_POLICY;
  const dir = await mkdtemp(join(tmpdir(), 'parley-tsa-'));
  await writeFile(join(dir, 'openssl.cnf'), config(policy, opts.essCertIdAlg ?? 'sha256'));
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'ca.serial'), '1000\n');
  await writeFile(join(dir, 'tsa.serial'), '01\n');
  await openssl(['version'], dir); // fails early, with a clear message, when openssl is missing
  await mkdir(join(dir, 'newcerts'));
  await newRoot(dir, 'root', `Parley Test Root ${opts.name ?? 'test-tsa'}`, keyType);
  const badEku = kind === 'no-eku' || kind === 'eku-not-critical' || kind === 'eku-extra';
  const resigned = badEku || opts.noEss === true;
  const cmsSigner = badEku ? 'bad' : 'tsa';
  // openssl ts signs only with a certificate RFC 3161 §2.3 allows; a bad certificate's tokens are
  // openssl ts's TSTInfo re-signed by openssl cms with it (below).
  const dates = kind === 'expired' ? ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z'] : ['-days', '3650'];
  const chainKind = opts.chain ?? 'direct';
  if (chainKind !== 'direct') await issue(dir, 'mid', `Parley Test ${chainKind === 'intermediate' ? 'Intermediate CA' : 'TSA issuing (not a CA)'}`, chainKind === 'intermediate' ? 'v3_ca' : 'tsa_valid', keyType, ['-days', '3650']);
  const issuer = chainKind === 'direct' ? 'root' : 'mid';
  await issue(dir, 'tsa', 'Parley Test TSA', 'tsa_valid', keyType, badEku ? ['-days', '3650'] : dates, issuer);
  if (badEku) await issue(dir, 'bad', 'Parley Test TSA (bad EKU)', `tsa_${kind.replaceAll('-', '_')}`, keyType, ['-days', '3650'], issuer);
  // The certificates the token carries besides the signer's (openssl ts `certs`, openssl cms -certfile).
  const chainPem = (issuer === 'mid' ? [await readFile(join(dir, 'mid.pem'), 'utf8')] : []).concat(await readFile(join(dir, 'root.pem'), 'utf8'));
  await writeFile(join(dir, 'chain.pem'), chainPem.join(''));
  if (opts.untrusted) await newRoot(dir, 'other', 'Parley Other Root', keyType);
  const caCertificate = pemToDer(await readFile(join(dir, 'root.pem'), 'utf8'));
  const trusted = opts.untrusted ? pemToDer(await readFile(join(dir, 'other.pem'), 'utf8')) : caCertificate;
  const tsaCertificate = pemToDer(await readFile(join(dir, `${cmsSigner}.pem`), 'utf8'));
  const authority: TestAuthority = {
    name: opts.name ?? 'test-tsa',
    url: opts.url ?? 'http://127.0.0.1:1/tsa',
    roots: [Buffer.from(trusted).toString('base64')],
    policy: opts.authorityPolicy ?? policy,
    validFrom: opts.validFrom ?? '2000-01-01T00:00:00.000Z',
    validUntil: opts.validUntil ?? '2100-01-01T00:00:00.000Z',
  };
  let n = 0;
  const stamp = async (query: Uint8Array): Promise<Uint8Array> => {
    const id = `q${++n}`;
    await writeFile(join(dir, `${id}.tsq`), query);
    if (!resigned) {
      await openssl(['ts', '-reply', '-config', 'openssl.cnf', '-queryfile', `${id}.tsq`, '-out', `${id}.tsr`], dir);
      return new Uint8Array(await readFile(join(dir, `${id}.tsr`)));
    }
    await openssl(['ts', '-reply', '-config', 'openssl.cnf', '-queryfile', `${id}.tsq`, '-out', `${id}.tsr`], dir);
    const reply = new Uint8Array(await readFile(join(dir, `${id}.tsr`)));
    try {
      await openssl(['ts', '-reply', '-config', 'openssl.cnf', '-in', `${id}.tsr`, '-token_out', '-out', `${id}.tok`], dir);
    } catch {
      return reply; // a rejection (no token) is passed on as openssl made it
    }
    await openssl(['cms', '-verify', '-noverify', '-binary', '-inform', 'DER', '-in', `${id}.tok`, '-out', `${id}.tst`], dir);
    const cades = opts.noEss ? [] : ['-cades'];
    await openssl(['cms', '-sign', '-binary', '-nodetach', ...cades, '-econtent_type', '1.2.840.113549.1.9.16.1.4', '-md', 'sha256', '-nosmimecap', '-signer', `${cmsSigner}.pem`, '-inkey', `${cmsSigner}.key`, '-certfile', 'chain.pem', '-in', `${id}.tst`, '-outform', 'DER', '-out', `${id}.cms`], dir);
    return grantedResponse(new Uint8Array(await readFile(join(dir, `${id}.cms`))));
  };
  return {
    dir,
    authority,
    caCertificate,
    tsaCertificate,
    stamp,
    async stampData(data) {
      const id = `d${++n}`;
      await writeFile(join(dir, `${id}.dat`), data);
      await openssl(['ts', '-query', '-data', `${id}.dat`, '-sha256', '-cert', '-out', `${id}.tsq`], dir);
      const reply = await stamp(new Uint8Array(await readFile(join(dir, `${id}.tsq`))));
      await writeFile(join(dir, `${id}.tsr`), reply);
      await openssl(['ts', '-reply', '-config', 'openssl.cnf', '-in', `${id}.tsr`, '-token_out', '-out', `${id}.tok`], dir);
      return { reply, token: new Uint8Array(await readFile(join(dir, `${id}.tok`))) };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * A test TSA behind a real node:http server on 127.0.0.1 (RFC 3161 §3.4):
 * POST `application/timestamp-query` → 200 `application/timestamp-reply`
 * with openssl's DER reply; another method 405, another type 415.
 */
export async function startTsaServer(opts: TestTsaOptions = {}): Promise<TsaServer> {
  const tsa = await makeTestTsa(opts);
  let failing: number | undefined;
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      void (async (): Promise<void> => {
        if (failing !== undefined) {
          res.writeHead(failing, { 'content-type': 'text/plain' }).end('test TSA failing on purpose\n');
          return;
        }
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const refused = req.method !== 'POST' ? 405 : type !== 'application/timestamp-query' ? 415 : size > 64 * 1024 ? 413 : 0;
        if (refused !== 0) {
          res.writeHead(refused, refused === 405 ? { allow: 'POST' } : {}).end();
          return;
        }
        count++;
        try {
          const reply = await tsa.stamp(new Uint8Array(Buffer.concat(chunks)));
          res.writeHead(200, { 'content-type': 'application/timestamp-reply', 'content-length': reply.length }).end(reply);
        } catch (e) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  return {
    url,
    authority: { ...tsa.authority, url },
    tsa,
    requests: () => count,
    failWith(status) {
      failing = status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tsa.close();
    },
  };
}
