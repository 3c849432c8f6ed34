/**
 * `@parley/core/tsa` — RFC 3161 trusted time stamps on checkpoints (issue 12).
 *
 * A subpath of its own so the main entry (and the dashboard bundles that do
 * not verify tokens) carry no pkijs/asn1js. Pure: no I/O; WebCrypto for the
 * signatures (Node ≥ 20 and browsers).
 *
 * @example
 *   const imprint = timestampImprint(checkpointNote);
 *   const nonce = crypto.getRandomValues(new Uint8Array(16));
 *   const req = makeTimestampRequest({ imprint, nonce, policy: authority.policy });
 *   // POST req to authority.url as application/timestamp-query, then:
 *   const token = readTimestampReply({ status, contentType, body });
 *   await verifyTimestampToken(token, { imprint, nonce, authorities: [authority] });
 */
export * from './request.js';
export * from './verify.js';
export * from './wire.js';
export type { AccordTimestamping, TimestampAuthority } from '../accord/accord.js';
export { parseAccordTimestamping } from '../accord/accord.js';
