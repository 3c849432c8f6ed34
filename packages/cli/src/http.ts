/**
 * One HTTP request to a node, with node:http (node:https for https URLs)
 * rather than fetch: a command that used fetch waited ~0.2 s more before it
 * could exit (V8 finishing the compilation of undici's WebAssembly HTTP parser
 * in the background) on top of ~50 ms to load undici, which is most of
 * `parley inbox`'s time. The response is read whole: the node's answers are
 * JSON documents or one bundle file (capped by the node).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Response headers, read as fetch's Headers are: by lower-case name, null when absent. */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: ResponseHeaders;
  readonly bytes: Uint8Array;
}

function headersOf(h: IncomingHttpHeaders): ResponseHeaders {
  return {
    get(name) {
      const v = h[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/**
 * Sends `method url` with `headers` and `body`, and reads the whole response.
 * A response the node sends before it has read the whole body (413 for a body
 * over its limit) is returned; the broken upload after it is not an error.
 * @throws the socket's error (its `code`: ECONNREFUSED, ECONNRESET, EPIPE…),
 *   or a DOMException named TimeoutError after `timeoutMs`.
 */
export async function httpRequest(
  method: string,
  url: string,
  o: {
    headers: Record<string, string>;
    body?: string | Uint8Array;
    timeoutMs: number;
    /** Upload progress (bytes written of the body). */
    onUpload?: ((sent: number, total: number) => void) | undefined;
    /** Download progress (bytes received; the total when the node said). */
    onDownload?: ((received: number, total: number | undefined) => void) | undefined;
  },
): Promise<HttpResponse> {
  const target = new URL(url);
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const signal = AbortSignal.timeout(o.timeoutMs);
  const headers = { ...o.headers, ...(o.body !== undefined ? { 'content-length': String(typeof o.body === 'string' ? Buffer.byteLength(o.body) : o.body.byteLength) } : {}) };
  return new Promise((done, fail) => {
    const failed = (e: Error) => fail(signal.aborted ? (signal.reason as Error) : e);
    const req = request(target, { method, headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      const length = Number(res.headers['content-length'] ?? NaN);
      const total = Number.isSafeInteger(length) ? length : undefined;
      let received = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        o.onDownload?.(received, total);
      });
      res.on('error', failed);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        done({ status, statusText: res.statusMessage ?? '', ok: status >= 200 && status < 300, headers: headersOf(res.headers), bytes: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    // Once the response is in, the settled promise ignores this (an upload the node cut short).
    req.on('error', failed);
    const body = o.body;
    const onUpload = o.onUpload;
    if (body instanceof Uint8Array && onUpload !== undefined) {
      // In slices, so a progress bar can follow the upload; waits for the socket to drain.
      const SLICE = 256 * 1024;
      let at = 0;
      const more = (): void => {
        while (at < body.length) {
          const end = Math.min(at + SLICE, body.length);
          const ok = req.write(body.subarray(at, end));
          at = end;
          onUpload(at, body.length);
          if (!ok) {
            req.once('drain', more);
            return;
          }
        }
        req.end();
      };
      more();
    } else {
      req.end(body);
    }
  });
}
