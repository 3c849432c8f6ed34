/**
 * FIRST TLP 2.0 as STIX 2.1 marking definitions: the OASIS objects, byte for
 * byte in content, with their official ids (oasis-open/cti-stix-common-objects
 * objects/marking-definition/*.json and
 * objects/extension-definition/extension-definition--60a3c5c5-….json). Every
 * bundle Parley exports ships the five markings and the TLP 2.0 extension
 * definition, so a consumer needs nothing else to read the markings.
 */
import type { Marking } from '../taxonomy/types.js';
import type { StixObject } from './types.js';

/** The TLP 2.0 extension definition's id. */
export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/** Official OASIS marking-definition ids of the TLP 2.0 labels. */
export const TLP2_MARKING_IDS: Readonly<Record<Marking, string>> = {
  'TLP:CLEAR': 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  'TLP:GREEN': 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  'TLP:AMBER': 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'TLP:AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  'TLP:RED': 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

const TLP2_VALUES: Readonly<Record<Marking, string>> = {
  'TLP:CLEAR': 'clear',
  'TLP:GREEN': 'green',
  'TLP:AMBER': 'amber',
  'TLP:AMBER+STRICT': 'amber+strict',
  'TLP:RED': 'red',
};

/** The OASIS TLP 2.0 extension-definition object (version 1.0.0). */
export const TLP2_EXTENSION_DEFINITION: StixObject = {
  type: 'extension-definition',
  spec_version: '2.1',
  id: TLP2_EXTENSION_ID,
  created_by_ref: 'identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01',
  created: '2022-10-01T00:00:00.000Z',
  modified: '2022-10-01T00:00:00.000Z',
  name: 'TLP 2.0',
  description: 'This defines TLP 2.0 as a STIX extension',
  schema: 'https://github.com/oasis-open/cti-stix-common-objects/tree/master/extension-definition-specifications/tlp-2.0',
  version: '1.0.0',
  extension_types: ['property-extension'],
};

/** The OASIS TLP 2.0 marking-definition object of `marking`. */
export function tlpMarkingDefinition(marking: Marking): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP2_MARKING_IDS[marking],
    created: '2022-10-01T00:00:00.000Z',
    name: marking,
    extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: TLP2_VALUES[marking] } },
  };
}

/** The TLP 2.0 extension definition and the five marking definitions, least restrictive first. */
export function tlpObjects(): StixObject[] {
  return [TLP2_EXTENSION_DEFINITION, ...(Object.keys(TLP2_MARKING_IDS) as Marking[]).map(tlpMarkingDefinition)];
}
