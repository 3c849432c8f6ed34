/** Federation: delivery between parties' nodes by push and pull (issue 4). */
export { DEFAULT_PEER_TIMEOUT_MS, PUSH_REPLY_HEADER, PeerClient, PeerError, peersOf, type AddCheckpointResult, type PeerErrorCode, type PeerOptions, type PushBundleResult, type PushResult, type WitnessedPushResult } from './peer.js';
export { Federator, pushReplierOf, type PushReplier, type BackoffOptions, type FederatorOptions, type LinkState } from './federator.js';
export { receiveBundle, receiveWitnessedPush, recordFork, forksOf, checkWitnessed, bundleCheckpointNote, type NotWitnessed, type Received, type ReceivedWitnessed } from './receive.js';
export { TAIL_PUSH_CONTENT_TYPE, WITNESSED_PUSH_CONTENT_TYPE, formatWitnessedPush, parseWitnessedPush, type WitnessedPush } from './witnessedPush.js';
export { CompactRange, ForkDetected, MAX_SCAN, pullFrom, loadPullCursor, type PullResult, type PullSource } from './pull.js';
export { pushTo, loadPushCursor, replyPush, MAX_REPLY_ENTRIES, type PushCursor, type PushOptions } from './push.js';
export { cosignedKey, pullKey, pushKey, timesKey } from './keys.js';
export { canonicalFork, dropUnverified, forkId, heldForks, isQuarantined, keepUnverified, onForkRecorded, unverifiedOf, type HeldFork } from './forks.js';
export { compareCheckpoints, gossipWith, ownLogSource, peerLogSource, type Comparison, type GossipResult, type LogSource } from './gossip.js';
export { MirrorClient, type MirrorClientOptions } from './mirrorSource.js';
export { DELIVERY_TRACE_CHANNEL, tracing, traceStep, type DeliveryStep } from './trace.js';
