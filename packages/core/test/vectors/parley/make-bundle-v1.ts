/**
 * Regenerates bundle-v1.json: a small offline bundle from US to CN on the
 * channel of channel-v1.json (same accord, same fixed-seed keys). US's log
 * holds three hotline messages to CN; the checkpoint at size 3 is signed by
 * US's log key and cosigned by CN (cosignature/v1, fixed timestamp); the
 * bundle carries entries 0 and 2 with their inclusion proofs. Run only when
 * the bundle format changes on purpose:
 *
 *   npx tsx packages/core/test/vectors/parley/make-bundle-v1.ts
 *
 * Ed25519 is deterministic, so every signature, and so the whole file, is
 * reproducible; test/parley-bundle.test.ts rebuilds it with both crypto
 * bindings and compares byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeUtf8, formatHex, getCrypto } from '../../../src/index.js';
import { type BundleVectorInput, buildBundleVector } from '../../helpers/bundle.js';

const channel = JSON.parse(readFileSync(fileURLToPath(new URL('./channel-v1.json', import.meta.url)), 'utf8'));

const input: BundleVectorInput = {
  created: '2026-11-27T08:00:00.000Z',
  cosignedAt: 1795766400, // 2026-11-27T00:00:00Z
  messages: [
    { time: '2026-11-26T03:00:00.000Z', text: 'Test message: please acknowledge. 测试消息：请确认。', precedence: 'FLASH' },
    { time: '2026-11-26T03:05:00.000Z', text: 'Second test message.', precedence: 'ROUTINE' },
    { time: '2026-11-26T03:10:00.000Z', text: 'Third test message: "quoted", back\\slash.', precedence: 'PRIORITY' },
  ],
  include: [0, 2],
};
const v = buildBundleVector(channel, input);
const bundleText = decodeUtf8(v.bundle);

const out = {
  description:
    'Parley offline bundle vector v1 (ours): US → CN on the channel-v1 accord (keys from channel-v1.json seeds). US log of three hotline messages to CN; checkpoint at size 3 signed by US and cosigned by CN (cosignature/v1 at cosignedAt); bundle of entries 0 and 2 with RFC 9162 inclusion proofs, signed by US over "parley/bundle/v1\\n" || JCS(bundle without sig). Made by make-bundle-v1.ts (recipe in test/helpers/bundle.ts).',
  input,
  checkpoint: v.checkpoint,
  signingMessageSha256: formatHex(getCrypto().sha256(v.signingMessage)),
  bundleSha256: formatHex(getCrypto().sha256(v.bundle)),
  bundle: bundleText,
};
writeFileSync(fileURLToPath(new URL('./bundle-v1.json', import.meta.url)), `${JSON.stringify(out, null, 2)}\n`);
console.log(`bundle ${out.bundleSha256} (${v.bundle.length} bytes)`);
