/**
 * A TAXII 2.1 client written from the specification (OASIS TAXII Version
 * 2.1, 10 June 2021), NOT from the server's code: it shares no type, schema
 * or helper with packages/node/src/http/taxii.ts. Every response it reads
 * is checked against what the spec says a server MUST send; a violation
 * throws `TaxiiViolation` naming the section.
 *
 * - §1.6.8: requests carry `Accept: application/taxii+json;version=2.1`;
 *   responses are `Content-Type: application/taxii+json;version=2.1`.
 * - §4.1 discovery: `title` (string) and `api_roots` (list of URLs), `default`.
 * - §4.2 API root: `title`, `versions` (MUST include the 2.1 media type), `max_content_length` (integer).
 * - §5.1/§5.2 collections: `id` (identifier), `title`, `can_read`, `can_write` (booleans), `media_types`.
 * - §3.7 envelope: `more` (boolean), `next` (string), `objects` (list); §5.3 manifest records
 *   `id`, `date_added`, `version`, `media_type`; §5.8 versions: `more`, `versions`.
 * - §3.6 pagination: while `more` is true, ask again with `next`; headers
 *   `X-TAXII-Date-Added-First`/`-Last` give the first and last record's date added.
 */
export const TAXII = 'application/taxii+json;version=2.1';

export class TaxiiViolation extends Error {
  constructor(section: string, what: string) {
    super(`TAXII 2.1 ${section}: ${what}`);
    this.name = 'TaxiiViolation';
  }
}

export interface TaxiiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** RFC 9110 §8.3.1: type/subtype case-insensitive, parameters `name=value` with optional quotes; exactly `version=2.1`. */
export function isTaxiiMediaType(header: string): boolean {
  const [type = '', ...params] = header.split(';').map((x) => x.trim());
  if (type.toLowerCase() !== 'application/taxii+json') return false;
  const ps = params.map((p) => {
    const eq = p.indexOf('=');
    return [p.slice(0, eq).toLowerCase(), p.slice(eq + 1).replace(/^"(.*)"$/, '$1')] as const;
  });
  return ps.some(([k, v]) => k === 'version' && v === '2.1') && ps.every(([k]) => k === 'version');
}

function need(cond: unknown, section: string, what: string): asserts cond {
  if (!cond) throw new TaxiiViolation(section, what);
}

export class TaxiiClient {
  constructor(
    private readonly token: string | undefined,
    private readonly accept: string = TAXII,
  ) {}

  /** GET `url`; checks the media type of every answer, success or error (§1.6.8, §3.6.1). */
  async get<T = Record<string, unknown>>(url: string): Promise<TaxiiResponse<T>> {
    const headers: Record<string, string> = { accept: this.accept };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    const res = await fetch(url, { headers });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    if (res.status !== 406) need(isTaxiiMediaType(type), '§1.6.8', `Content-Type is ${type}, want ${TAXII} (${url})`);
    const body = (text === '' ? {} : JSON.parse(text)) as T;
    if (res.status >= 400 && res.status !== 406) {
      const e = body as Record<string, unknown>;
      need(typeof e['title'] === 'string', '§3.6.1', 'an error resource has a title');
      if (e['http_status'] !== undefined) need(e['http_status'] === String(res.status), '§3.6.1', 'http_status is the status as a string');
    }
    return { status: res.status, headers: res.headers, body };
  }

  private async ok<T>(url: string): Promise<TaxiiResponse<T>> {
    const r = await this.get<T>(url);
    need(r.status === 200, '§3', `GET ${url} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
    return r;
  }

  async discovery(server: string): Promise<{ title: string; default?: string; api_roots: string[] }> {
    const { body } = await this.ok<Record<string, unknown>>(new URL('/taxii2/', server).href);
    need(typeof body['title'] === 'string', '§4.1.1', 'discovery has a title');
    const roots = body['api_roots'];
    need(Array.isArray(roots) && roots.every((u) => typeof u === 'string' && URL.canParse(u)), '§4.1.1', 'api_roots is a list of URLs');
    if (body['default'] !== undefined) need((roots as string[]).includes(body['default'] as string), '§4.1.1', 'default is one of api_roots');
    return body as { title: string; default?: string; api_roots: string[] };
  }

  async apiRoot(root: string): Promise<Record<string, unknown>> {
    const { body } = await this.ok<Record<string, unknown>>(root);
    need(typeof body['title'] === 'string', '§4.2.1', 'an API root has a title');
    need(Array.isArray(body['versions']) && (body['versions'] as unknown[]).includes(TAXII), '§4.2.1', 'versions includes taxii 2.1');
    need(Number.isInteger(body['max_content_length']), '§4.2.1', 'max_content_length is an integer');
    return body;
  }

  async collections(root: string): Promise<CollectionInfo[]> {
    const { body } = await this.ok<{ collections?: unknown[] }>(new URL('collections/', root).href);
    const cs = body.collections ?? [];
    for (const c of cs) checkCollection(c);
    return cs as CollectionInfo[];
  }

  async collection(root: string, id: string): Promise<CollectionInfo> {
    const { body } = await this.ok<unknown>(new URL(`collections/${id}/`, root).href);
    checkCollection(body);
    return body as CollectionInfo;
  }

  /**
   * Every page of `resource` (`objects/`, `manifest/`, `objects/<id>/versions/`) of a collection,
   * following `next` while `more` is true (§3.6), with `query` on the first request and the
   * same filters plus `next` after it. Returns the pages as received.
   */
  async pages(root: string, collection: string, resource: string, query: Record<string, string> = {}): Promise<Page[]> {
    const pages: Page[] = [];
    let next: string | undefined;
    for (let i = 0; i < 10_000; i++) {
      const u = new URL(`collections/${collection}/${resource}`, root);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
      if (next !== undefined) u.searchParams.set('next', next);
      const r = await this.ok<Record<string, unknown>>(u.href);
      const page = checkPage(r, resource);
      pages.push(page);
      if (!page.more) return pages;
      need(typeof page.next === 'string' && page.next.length > 0, '§3.6', 'more is true, so next is given');
      next = page.next;
    }
    throw new TaxiiViolation('§3.6', 'pagination did not end');
  }
}

export interface CollectionInfo {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly alias?: string;
  readonly can_read: boolean;
  readonly can_write: boolean;
  readonly media_types?: string[];
}

export interface Page {
  readonly more: boolean;
  readonly next?: string;
  /** objects (envelope), manifest records, or version strings. */
  readonly items: readonly Record<string, unknown>[] | readonly string[];
  readonly first?: string;
  readonly last?: string;
}

function checkCollection(c: unknown): void {
  const o = c as Record<string, unknown>;
  need(typeof o['id'] === 'string' && UUID.test(o['id']), '§5.2.1', 'a collection id is a UUID');
  need(typeof o['title'] === 'string', '§5.2.1', 'a collection has a title');
  need(typeof o['can_read'] === 'boolean' && typeof o['can_write'] === 'boolean', '§5.2.1', 'can_read and can_write are booleans');
  if (o['media_types'] !== undefined) need(Array.isArray(o['media_types']), '§5.2.1', 'media_types is a list');
}

function checkPage(r: TaxiiResponse<Record<string, unknown>>, resource: string): Page {
  const b = r.body;
  const first = r.headers.get('x-taxii-date-added-first') ?? undefined;
  const last = r.headers.get('x-taxii-date-added-last') ?? undefined;
  if (b['more'] !== undefined) need(typeof b['more'] === 'boolean', '§3.7', 'more is a boolean');
  if (b['next'] !== undefined) need(typeof b['next'] === 'string', '§3.7', 'next is a string');
  const more = b['more'] === true;
  if (resource.endsWith('versions/')) {
    const vs = (b['versions'] ?? []) as unknown[];
    need(Array.isArray(vs) && vs.every((v) => typeof v === 'string' && TIMESTAMP.test(v)), '§5.8.1', 'versions is a list of timestamps');
    return { more, ...(typeof b['next'] === 'string' ? { next: b['next'] } : {}), items: vs as string[], ...(first ? { first } : {}), ...(last ? { last } : {}) };
  }
  const items = (b['objects'] ?? []) as Record<string, unknown>[];
  need(Array.isArray(items), '§3.7', 'objects is a list');
  if (resource === 'manifest/') {
    for (const m of items) {
      need(typeof m['id'] === 'string' && typeof m['version'] === 'string', '§5.3.1', 'a manifest record has id and version');
      need(typeof m['date_added'] === 'string' && TIMESTAMP.test(m['date_added']), '§5.3.1', 'a manifest record has date_added');
      need(m['media_type'] === undefined || typeof m['media_type'] === 'string', '§5.3.1', 'media_type is a string');
    }
    if (items.length > 0) {
      need(first === items[0]!['date_added'] && last === items[items.length - 1]!['date_added'], '§3.6', 'X-TAXII-Date-Added-First/-Last are the first and last records\u2019 date_added');
      const dates = items.map((m) => Date.parse(m['date_added'] as string));
      need(dates.every((d, i) => i === 0 || dates[i - 1]! <= d), '§3.4.1', 'records are sorted by date_added, ascending');
    }
  } else {
    for (const o of items) need(typeof o['id'] === 'string' && typeof o['type'] === 'string' && o['spec_version'] === '2.1', '§3.7', 'an object has id, type and spec_version');
  }
  if (items.length > 0) need(first !== undefined && last !== undefined && TIMESTAMP.test(first) && TIMESTAMP.test(last), '§3.6', 'a non-empty page has X-TAXII-Date-Added-First/-Last');
  return { more, ...(typeof b['next'] === 'string' ? { next: b['next'] } : {}), items, ...(first ? { first } : {}), ...(last ? { last } : {}) };
}
