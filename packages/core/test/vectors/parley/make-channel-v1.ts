/**
 * Regenerates channel-v1.json: a fixed two-party accord (keys from fixed
 * seeds), its id and signatures, and one signed entry. Run only when the
 * accord or entry format changes on purpose:
 *
 *   npx tsx packages/core/test/vectors/parley/make-channel-v1.ts
 *
 * Ed25519 is deterministic, so the signatures are reproducible.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type SignedAccord,
  draftAccord,
  encodeUtf8,
  formatBase64,
  formatHex,
  formatVerifierKey,
  getCrypto,
  signAccord,
  signEntry,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyAccord,
} from '../../../src/index.js';
import { hpkeDeriveKeyPair } from '../../../src/envelope/hpke.js';

const seed = (label: string) => getCrypto().sha256(encodeUtf8(`parley test vector seed: ${label}`));
const seeds = {
  US: { log: formatBase64(seed('US log')), hpke: formatBase64(seed('US hpke')) },
  CN: { log: formatBase64(seed('CN log')), hpke: formatBase64(seed('CN hpke')) },
};
const key = (id: 'US' | 'CN', origin: string) => ({
  log: signerKeyFromSeed(origin, seed(`${id} log`)),
  hpke: hpkeDeriveKeyPair(seed(`${id} hpke`)),
});
const us = key('US', 'us.parley.example/log');
const cn = key('CN', 'cn.parley.example/log');
const party = (id: 'US' | 'CN', k: typeof us) => ({
  id,
  names: { en: id === 'CN' ? 'China AI Safety Institute' : 'US AI Safety Institute', 'zh-CN': id === 'CN' ? '中国人工智能安全研究所' : '美国人工智能安全研究所' },
  urls: [`https://${id.toLowerCase()}.parley.example`],
  logKey: formatVerifierKey(verifierKeyOf(k.log)),
  hpkeKey: formatBase64(k.hpke.publicKey),
});

const accord = draftAccord({
  name: 'us-cn-ai-hotline',
  title: { en: 'US–China AI incident hotline', 'zh-CN': '中美人工智能事件热线' },
  parties: [party('US', us), party('CN', cn)],
  created: new Date(Date.UTC(2026, 10, 26, 0, 0, 0)),
});
let signed: SignedAccord = { accord, signatures: [] };
signed = signAccord(signed, 'US', us.log);
signed = signAccord(signed, 'CN', cn.log);
const v = verifyAccord(signed);

const envelope = {
  v: 1 as const,
  accord: v.id,
  from: { party: 'US', officer: 'alice' },
  to: ['CN'],
  seq: 0,
  time: '2026-11-26T03:00:00.000Z',
  type: 'hotline.message' as const,
  precedence: 'FLASH' as const,
  marking: 'TLP:CLEAR' as const,
  refs: [],
  body: { clear: { text: 'Test message: please acknowledge. 测试消息：请确认。', lang: 'en' } },
};
const e = signEntry(envelope, getCrypto().ed25519Signer(us.log.seed));

const out = {
  description:
    'Parley channel vector v1 (ours): a two-party accord drafted with the taxonomy-v1 defaults from fixed seeds (SHA-256 of "parley test vector seed: <label>"), its id (hex SHA-256 of RFC 8785 JCS), both Ed25519 signatures over "parley/accord/v1\\n" || SHA-256(JCS(accord)), and one hotline entry signed over "parley/entry/v1\\n" || JCS(envelope). Made by make-channel-v1.ts.',
  seeds,
  accord: signed,
  accordId: v.id,
  entry: { envelope, bytesHex: formatHex(e.bytes), leafHashHex: formatHex(e.leafHash) },
};
writeFileSync(fileURLToPath(new URL('./channel-v1.json', import.meta.url)), `${JSON.stringify(out, null, 2)}\n`);
console.log(`accord ${v.id}`);
