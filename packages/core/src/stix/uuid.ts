/**
 * RFC 9562 §5.5 name-based UUIDs (version 5, SHA-1) — the deterministic ids
 * of every STIX object Parley exports (STIX 2.1 §2.9: "producers SHOULD use
 * UUIDv5 for SCOs"; we use it for every object so that re-exporting the same
 * entries gives the same ids).
 *
 *     uuidv5(name, ns) = SHA-1(ns ‖ UTF-8(name))[0..16] with
 *                        octet 6 = 0x50 | (octet 6 & 0x0f)     (version 5, §5.5)
 *                        octet 8 = 0x80 | (octet 8 & 0x3f)     (variant 10, §4.1)
 *
 * SHA-1 is used here as RFC 9562 defines it — a name hash, not a security
 * property: the ids identify, the leaf hashes in external_references verify.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { fail } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const utf8 = new TextEncoder();

/** The 16 bytes of a UUID given as text (lowercase hex with dashes). */
export function uuidBytes(uuid: string): Uint8Array {
  if (!UUID.test(uuid)) fail('STIX_INPUT_INVALID', `not a lowercase UUID: ${uuid}`);
  const hex = uuid.replaceAll('-', '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function formatUuid(b: Uint8Array): string {
  const h = Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * RFC 9562 §5.5 UUIDv5 of `name` (UTF-8) in `namespace` (a UUID string or its 16 bytes).
 *
 * @example
 *   uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'); // → '2ed6657d-e927-568b-95e1-2665a8aea6a2'
 */
export function uuidv5(name: string, namespace: string | Uint8Array): string {
  const ns = typeof namespace === 'string' ? uuidBytes(namespace) : namespace;
  if (ns.length !== 16) fail('STIX_INPUT_INVALID', `a UUID namespace is 16 bytes, got ${ns.length}`);
  const n = utf8.encode(name);
  const msg = new Uint8Array(16 + n.length);
  msg.set(ns, 0);
  msg.set(n, 16);
  const h = sha1(msg);
  h[6] = 0x50 | (h[6]! & 0x0f);
  h[8] = 0x80 | (h[8]! & 0x3f);
  return formatUuid(h);
}

/**
 * The namespace of ATLAS's own STIX ids: the 16 ASCII bytes `atlas.mitre.org.`
 * (mitre-atlas/atlas-navigator-data tools/generate_stix.py:
 * `uuid.UUID("atlas.mitre.org.".encode("utf-8").hex())`).
 */
export const ATLAS_NAMESPACE: Uint8Array = utf8.encode('atlas.mitre.org.');

/**
 * Parley's namespace for the ids of the STIX objects it exports:
 * UUIDv5("parley.stix/1", the RFC 9562 URL namespace 6ba7b811-…), i.e.
 * `5823b792-f7f5-58f9-bc85-c512423256a4`. Every object id is
 * `<type>--uuidv5("<type>/<key>", PARLEY_NAMESPACE)` with the key documented
 * where the object is made (incident.ts), so ids never collide across types.
 */
export const PARLEY_NAMESPACE_UUID: string = uuidv5('parley.stix/1', '6ba7b811-9dad-11d1-80b4-00c04fd430c8');

/** `type--uuidv5("type/key", Parley's namespace)`. */
export function parleyStixId(type: string, key: string): string {
  return `${type}--${uuidv5(`${type}/${key}`, PARLEY_NAMESPACE_UUID)}`;
}
