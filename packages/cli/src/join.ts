/**
 * A joining party's first start (issue 11, `parley init --chain`): its data
 * directory holds a chain that does not name it yet (it was made before the
 * amendment that adds it). Before the node opens, `parley serve` fetches
 * `GET /v1/accord/chain` from the channel's nodes (every URL the held chain's
 * versions name, and the --peer URLs), verifies each answer from the held
 * version 1 (core verifyChainFile: every signature, every activation entry),
 * and keeps the first that extends the held chain (same versions as far as
 * both go) and whose version in force names this party with this log key —
 * as `parley accord install CHAINFILE` would have. A node that is already
 * named, or that the chain names under an older key of its own (it left),
 * asks nobody. Answers are untrusted: a wrong one is skipped.
 */
import type { LogStore } from '@parley/store';
import { type SignedAccord, accordVersion, formatVerifierKey, parseChainFile, verifyAccord, verifyChainFile } from '@parley/core/node';

/** The store calls this needs. */
type ChainStore = Pick<LogStore, 'accordChain' | 'putAccordChain'>;

/** Time allowed to each node asked (ms). */
const ASK_MS = 5_000;

/**
 * Catches a joining party's chain up from the channel's nodes.
 * @returns the version now in force in the held chain and whether it moved.
 */
export async function catchUpJoin(o: { store: ChainStore; genesis: SignedAccord; party: string; logKey: string; peerUrls: readonly string[]; log?: (msg: string) => void }): Promise<{ moved: boolean; version: number }> {
  const held = await o.store.accordChain();
  const channel = verifyAccord(o.genesis).id;
  const ours = verifyChainFile({ channel, versions: held?.versions ?? [], activations: held?.activations ?? [] }, { genesis: o.genesis });
  const named = (chain: typeof ours.chain) => chain.current.party(o.party);
  const me = named(ours.chain);
  if (me !== undefined && formatVerifierKey(me.logKey) === o.logKey) return { moved: false, version: ours.chain.current.version };
  // Named in some version with this very key but not now: a departed party, not a joining one.
  if (ours.chain.versions.some((v) => v.party(o.party) !== undefined && formatVerifierKey(v.party(o.party)!.logKey) === o.logKey)) return { moved: false, version: ours.chain.current.version };
  const urls = [...new Set([...o.peerUrls, ...ours.chain.versions.flatMap((v) => v.accord.parties.filter((p) => p.id !== o.party).flatMap((p) => p.urls))])];
  for (const url of urls) {
    let text: string;
    try {
      const res = await fetch(`${url.replace(/\/$/, '')}/v1/accord/chain`, { signal: AbortSignal.timeout(ASK_MS) });
      if (!res.ok) continue;
      text = await res.text();
    } catch {
      continue;
    }
    try {
      const { chain } = verifyChainFile(text, { genesis: o.genesis });
      if (chain.versions.length <= ours.chain.versions.length) continue;
      if (ours.chain.versions.some((v, i) => chain.versions[i]!.digest !== v.digest)) continue;
      const m = named(chain);
      if (m === undefined || formatVerifierKey(m.logKey) !== o.logKey) continue;
      const file = parseChainFile(text);
      await o.store.putAccordChain({ channel: chain.channel, versions: file.versions.filter((v) => accordVersion(v.accord) > 1), activations: file.activations });
      o.log?.(`joined: the chain from ${url} names ${o.party} in version ${chain.current.version}`);
      return { moved: true, version: chain.current.version };
    } catch {
      continue;
    }
  }
  return { moved: false, version: ours.chain.current.version };
}
