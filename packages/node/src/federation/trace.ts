/**
 * Step timestamps of a push between two nodes, for finding where a FLASH
 * round trip spends its time (bench/node.mjs, the FLASH section): each step
 * is published on the `node:diagnostics_channel` channel
 * {@link DELIVERY_TRACE_CHANNEL} — and only built when something subscribes,
 * so a node nobody traces pays one boolean test per step.
 *
 *     sender                                receiver
 *     push.send      request leaves          push.received     body read
 *     push.answer    answer read             push.authenticated signature checked, nonce durable
 *                                            push.verified     bundle opened (signatures, proofs)
 *                                            push.durable      cosignature, entries and receipts durable
 *                                            reply.built       the push back rides on the answer
 *
 * Each step names the pushing party's log (`log`) and the checkpoint size
 * the push proves against (`size`), so the two sides' steps of one push
 * pair up; `t` is wall-clock milliseconds with sub-millisecond precision
 * (performance.timeOrigin + performance.now(): comparable across the
 * threads of one process, which is how the bench runs two nodes).
 * Subscribers must not throw or block.
 */
import { channel } from 'node:diagnostics_channel';

/** The channel the steps are published on. */
export const DELIVERY_TRACE_CHANNEL = 'parley.delivery';

/** One step of one push. */
export interface DeliveryStep {
  readonly step: 'push.send' | 'push.answer' | 'push.received' | 'push.authenticated' | 'push.verified' | 'push.durable' | 'reply.built';
  /** The party whose log is pushed. */
  readonly log: string;
  /** The checkpoint size the push proves its entries against (0: not yet known on this side). */
  readonly size: number;
  /** Wall-clock ms (sub-ms precision). */
  readonly t: number;
  /** Bytes of the request or answer, where the step has them. */
  readonly bytes?: number;
  /** First index of the pushed run (push.send) or of the reply's run (reply.built). */
  readonly from?: number;
}

const ch = channel(DELIVERY_TRACE_CHANNEL);

/** Whether anyone listens (test before building a step's fields). */
export function tracing(): boolean {
  return ch.hasSubscribers;
}

/** Publishes a step with the current time, when anyone listens. */
export function traceStep(step: DeliveryStep['step'], log: string, size: number, extra?: { bytes?: number; from?: number }): void {
  if (!ch.hasSubscribers) return;
  ch.publish({ step, log, size, t: performance.timeOrigin + performance.now(), ...extra } satisfies DeliveryStep);
}
