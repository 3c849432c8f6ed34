/**
 * The RFC 3161 transport (§3.4, "Time-Stamp Protocol via HTTP"): POST the
 * DER TimeStampReq as `application/timestamp-query`, read the DER
 * TimeStampResp answered as `application/timestamp-reply`.
 *
 * Bounded like every outbound call of the node (federation/peer.ts): a
 * deadline for the whole exchange ({@link TSA_TIMEOUT_MS}), an answer of at
 * most {@link MAX_TSA_REPLY_BYTES} (declared or read), and no redirect
 * followed (undici's request does not follow them).
 *
 * Failures are typed: `TSA_UNAVAILABLE` (no connection, a timeout, a status
 * other than 200), `TSA_MALFORMED` (another content type, an answer too
 * large). The answer itself is parsed and verified by the caller
 * (core tsa parseTimestampResponse, verifyTimestampToken).
 */
import { request as undiciRequest } from 'undici';
import { fail, isParleyError } from '@parley/core';
import { MAX_TIMESTAMP_REPLY, TIMESTAMP_QUERY_TYPE, TIMESTAMP_REPLY_TYPE } from '@parley/core/tsa';

/** Longest a TSA may take to answer (ms). */
export const TSA_TIMEOUT_MS = 10_000;
/** Largest TimeStampResp read (a token with its certificate chain is a few KiB). */
export const MAX_TSA_REPLY_BYTES = MAX_TIMESTAMP_REPLY;

export interface TsaClientOptions {
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/**
 * Sends one TimeStampReq to `url` and returns the TimeStampResp bytes (unverified).
 * @throws ParleyError `TSA_UNAVAILABLE` or `TSA_MALFORMED` (see the module doc).
 */
export async function postTimestampQuery(url: string, query: Uint8Array, o: TsaClientOptions = {}): Promise<Uint8Array> {
  const timeoutMs = o.timeoutMs ?? TSA_TIMEOUT_MS;
  const maxBytes = o.maxBytes ?? MAX_TSA_REPLY_BYTES;
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Awaited<ReturnType<typeof undiciRequest>>;
  try {
    res = await undiciRequest(url, {
      method: 'POST',
      headers: { 'content-type': TIMESTAMP_QUERY_TYPE, accept: TIMESTAMP_REPLY_TYPE },
      body: query,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (e) {
    return fail('TSA_UNAVAILABLE', signal.aborted ? `${url}: no answer within ${timeoutMs} ms` : `${url}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const header = (h: string | string[] | undefined) => ((Array.isArray(h) ? h[0] : h) ?? '').toLowerCase();
  try {
    if (res.statusCode !== 200) fail('TSA_UNAVAILABLE', `${url} answered ${res.statusCode}`);
    const type = header(res.headers['content-type']);
    if (!type.startsWith(TIMESTAMP_REPLY_TYPE)) fail('TSA_MALFORMED', `${url} answered ${type || 'no content type'}, not ${TIMESTAMP_REPLY_TYPE}`);
    const declared = Number(header(res.headers['content-length']) || '0');
    if (declared > maxBytes) fail('TSA_MALFORMED', `${url}: answer of ${declared} bytes exceeds ${maxBytes}`);
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > maxBytes) fail('TSA_MALFORMED', `${url}: answer exceeds ${maxBytes} bytes`);
        chunks.push(chunk);
      }
    } catch (e) {
      if (isParleyError(e)) throw e;
      fail('TSA_UNAVAILABLE', `${url}: ${signal.aborted ? `no answer within ${timeoutMs} ms` : e instanceof Error ? e.message : String(e)}`, e);
    }
    const bytes = Buffer.concat(chunks, length);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } finally {
    // Whatever was not read is dropped (an abort on a body nobody reads is no error).
    res.body.on('error', () => undefined);
    if (!res.body.destroyed) res.body.destroy();
  }
}
