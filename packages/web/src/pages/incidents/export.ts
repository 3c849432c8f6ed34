/**
 * Exports of one incident, each a button on the incident page beside
 * "Print / Save as PDF" (which prints the page with the print stylesheet).
 *
 * JSON: the incident as the node's API returns it — GET /v1/incidents/:id,
 * `{ incident, timeline }`, read again when the officer asks, so the file is
 * what the node holds at that moment, not what the page loaded earlier.
 *
 * STIX 2.1 (issue 13): the node's bundle of the incident — GET
 * /v1/incidents/:id/stix, what this officer's role may read, TLP 2.0
 * markings, deterministic ids — saved as `<id>.stix.json` with the STIX
 * media type. The node's JSON is compact and integer-only, so parsing and
 * stringifying it again gives its bytes back. An incident sealed from the
 * role is refused by the node (STIX_SEALED) and shown as a failed export.
 *
 * Adding a format is one more entry in {@link INCIDENT_EXPORTS}: an id, the
 * label's key in the `incidents` namespace (`export.<id>`, in both locales),
 * and how to make the file.
 */
import { api } from '../../api.js';
import { fileSafe } from '../../download.js';

export interface IncidentExport {
  /** Stable id: the button's `data-testid` is `export-<id>`, its label `export.<id>`. */
  readonly id: string;
  /** Reads the incident from the node and makes the file. @throws ApiError when the node refuses. */
  file(incident: string): Promise<{ name: string; blob: Blob }>;
}

const json: IncidentExport = {
  id: 'json',
  async file(incident) {
    const body = await api<unknown>(`/v1/incidents/${encodeURIComponent(incident)}`);
    return { name: `incident-${fileSafe(incident)}.json`, blob: new Blob([JSON.stringify(body, null, 2), '\n'], { type: 'application/json' }) };
  },
};

/** The STIX 2.1 / TAXII 2.1 media type of a STIX bundle. */
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

const stix: IncidentExport = {
  id: 'stix',
  async file(incident) {
    const bundle = await api<unknown>(`/v1/incidents/${encodeURIComponent(incident)}/stix`);
    return { name: `incident-${fileSafe(incident)}.stix.json`, blob: new Blob([JSON.stringify(bundle)], { type: STIX_MEDIA_TYPE }) };
  },
};

/** Every export the incident page offers, in button order. */
export const INCIDENT_EXPORTS: readonly IncidentExport[] = [json, stix];
