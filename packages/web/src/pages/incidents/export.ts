/**
 * Exports of one incident, each a button on the incident page beside
 * "Print / Save as PDF" (which prints the page with the print stylesheet).
 *
 * JSON: the incident as the node's API returns it — GET /v1/incidents/:id,
 * `{ incident, timeline }`, read again when the officer asks, so the file is
 * what the node holds at that moment, not what the page loaded earlier.
 *
 * Adding a format (STIX 2.1 bundles, issue 13) is one more entry in
 * {@link INCIDENT_EXPORTS}: an id, the label's key in the `incidents`
 * namespace (`export.<id>`, in both locales), and how to make the file —
 * for STIX, from the node's STIX endpoint once it exists.
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

/** Every export the incident page offers, in button order. */
export const INCIDENT_EXPORTS: readonly IncidentExport[] = [json];
