/**
 * `@parley/core/stix` — STIX 2.1 export of incidents (issue 13): bundles with
 * deterministic UUIDv5 ids, the official TLP 2.0 marking definitions, the
 * OASIS Incident Core extension, and MITRE ATLAS techniques as ATLAS's own
 * attack-patterns. Pure: no I/O; runs in Node and in the browser.
 *
 * @example
 *   const bundle = incidentBundle({
 *     incident: 'US:2026-0007',
 *     reports: [{ party: 'US', index: 12, leafHash: '…64 hex…', time: '2026-03-01T10:00:00Z', marking: 'TLP:AMBER', body }],
 *   });
 *   // → {type: 'bundle', id: 'bundle--…', objects: [extension-definition, 5 markings, identity, incident, …]}
 */
export * from './types.js';
export * from './uuid.js';
export * from './tlp.js';
export * from './atlas.js';
export * from './bundle.js';
export { INCIDENT_CORE_EXTENSION_ID, PARLEY_STIX_EPOCH, incidentBundle, incidentObjectSources, incidentObjects } from './incident.js';
