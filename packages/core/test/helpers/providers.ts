/** Both crypto bindings: every vector test runs against each (STYLE.md, "Decisions already taken"). */
import { afterAll, beforeAll } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { type CryptoProvider, setCrypto } from '../../src/crypto/provider.js';

export const providers: CryptoProvider[] = [nodeCrypto, nobleCrypto];

/** Inside a `describe`, makes `p` the active provider for the block. */
export function useProvider(p: CryptoProvider): void {
  let previous: CryptoProvider | undefined;
  beforeAll(() => {
    previous = setCrypto(p);
  });
  afterAll(() => {
    setCrypto(previous);
  });
}
