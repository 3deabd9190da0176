/**
 * The bouncer's HTTP client for the Local API: stream pulls, live queries, a key-checking probe and
 * the usage-metrics push, each with a timeout, the `X-Api-Key` header and the bouncer's
 * User-Agent. Failures are classified (the key was refused, the LAPI answered an error, nothing
 * answered), because the fix differs (caddy-crowdsec-bouncer #140/#142 in anchors §2.4). The key is
 * never part of a message.
 */
import { VigilError } from '../lib/errors.ts';
import { BOUNCER_USER_AGENT } from './version.ts';
import { redactUrl } from '../lib/redact-url.ts';

/** Why a call failed, in the operator's terms. */
export type LapiFailureKind = 'auth' | 'not_found' | 'http' | 'network' | 'timeout' | 'bad_response';

export class LapiError extends VigilError {
  readonly kind: LapiFailureKind;
  /** HTTP status when the LAPI answered. */
  readonly status: number | null;
  constructor(kind: LapiFailureKind, status: number | null, message: string) {
    super('E_LAPI', message);
    this.name = 'LapiError';
    this.kind = kind;
    this.status = status;
  }
}

export interface StreamFilters {
  scopes?: readonly string[];
  origins?: readonly string[];
  scenariosContaining?: readonly string[];
  scenariosNotContaining?: readonly string[];
}

export interface StreamBody {
  new: unknown[] | null;
  deleted: unknown[] | null;
}

export interface LapiClientOptions {
  /** The Local API's base URL, e.g. `http://127.0.0.1:8080/` (a missing trailing slash is added). */
  apiUrl: string;
  apiKey: string;
  userAgent?: string;
}

export class LapiClient {
  readonly baseUrl: URL;
  readonly #apiKey: string;
  readonly #userAgent: string;
  readonly #shown: string;

  constructor(options: LapiClientOptions) {
    const text = options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`;
    this.baseUrl = new URL(text);
    this.#apiKey = options.apiKey;
    this.#userAgent = options.userAgent ?? BOUNCER_USER_AGENT;
    this.#shown = redactUrl(this.baseUrl.href);
  }

  /** `GET /v1/decisions/stream`: `startup=true` for the full set, else the delta since our last pull. */
  async stream(startup: boolean, filters: StreamFilters, timeoutMs: number): Promise<StreamBody> {
    const params: string[] = [];
    if (startup) params.push('startup=true');
    const list = (key: string, values: readonly string[] | undefined) => {
      if (values && values.length > 0) params.push(`${key}=${encodeURIComponent(values.join(','))}`);
    };
    list('scopes', filters.scopes);
    list('origins', filters.origins);
    list('scenarios_containing', filters.scenariosContaining);
    list('scenarios_not_containing', filters.scenariosNotContaining);
    // As the Go bouncers do: a bare `?` when there is nothing to ask (crowdsec-wire-protocol.md §4).
    const body = await this.#json('GET', `v1/decisions/stream?${params.join('&')}`, timeoutMs);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw this.#bad('v1/decisions/stream', 'not a {"new","deleted"} object');
    const b = body as { new?: unknown; deleted?: unknown };
    // Older LAPIs send null for an empty list, newer ones []: accept both (docs/reference/crowdsec-docs-notes.md §2.3).
    const asList = (v: unknown, key: string): unknown[] | null => {
      if (v === null || v === undefined) return null;
      if (!Array.isArray(v)) throw this.#bad('v1/decisions/stream', `"${key}" is not a list`);
      return v;
    };
    return { new: asList(b.new, 'new'), deleted: asList(b.deleted, 'deleted') };
  }

  /** `GET /v1/decisions?ip=…`: the decisions that apply to one address (Ip equal, Range containing). */
  async decisionsFor(ip: string, timeoutMs: number): Promise<unknown[]> {
    const body = await this.#json('GET', `v1/decisions?ip=${encodeURIComponent(ip)}`, timeoutMs);
    if (body === null) return []; // CrowdSec answers `null`, not [], when nothing matches (§7.1)
    if (!Array.isArray(body)) throw this.#bad('v1/decisions', 'not a list of decisions');
    return body;
  }

  /** `HEAD /v1/decisions`: proves the LAPI answers and accepts the key, without moving any cursor. */
  async probe(timeoutMs: number): Promise<void> {
    const res = await this.#send('HEAD', 'v1/decisions', timeoutMs);
    await res.body?.cancel();
    if (res.status !== 200) throw this.#statusError(res.status, 'v1/decisions', '');
  }

  /** `POST /v1/usage-metrics` (CrowdSec ≥ 1.6.3); a LAPI without the route answers 404 (kind not_found). */
  async pushUsageMetrics(payload: unknown, timeoutMs: number): Promise<void> {
    const res = await this.#send('POST', 'v1/usage-metrics', timeoutMs, JSON.stringify(payload));
    const text = await res.text();
    if (res.status !== 200 && res.status !== 201) throw this.#statusError(res.status, 'v1/usage-metrics', text);
  }

  async #json(method: string, path: string, timeoutMs: number): Promise<unknown> {
    const res = await this.#send(method, path, timeoutMs);
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw this.#networkError(e, path, timeoutMs);
    }
    if (res.status !== 200) throw this.#statusError(res.status, path, text);
    try {
      return JSON.parse(text);
    } catch {
      throw this.#bad(path, 'not JSON');
    }
  }

  async #send(method: string, path: string, timeoutMs: number, body?: string): Promise<Response> {
    const headers: Record<string, string> = { 'X-Api-Key': this.#apiKey, 'User-Agent': this.#userAgent };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(new URL(path, this.baseUrl), { method, headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    } catch (e) {
      throw this.#networkError(e, path, timeoutMs);
    }
  }

  #networkError(e: unknown, path: string, timeoutMs: number): LapiError {
    const err = e as { name?: string; cause?: { code?: string; message?: string }; message?: string };
    if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
      return new LapiError('timeout', null, `the Local API at ${this.#shown} did not answer ${path.split('?')[0]} within ${timeoutMs} ms`);
    }
    const why = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
    return new LapiError('network', null, `cannot reach the Local API at ${this.#shown}: ${why}; check that it runs and that api_url is right`);
  }

  #statusError(status: number, path: string, body: string): LapiError {
    const route = `/${path.split('?')[0]}`;
    let said = '';
    try {
      const m = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof m === 'string') said = m.slice(0, 200);
    } catch {
      // not JSON: say nothing more
    }
    if (status === 401 || status === 403) {
      return new LapiError(
        'auth',
        status,
        `the Local API at ${this.#shown} refused the API key (${status}${said ? ` ${said}` : ''}): check api_key; register one with 'vigil bouncers add NAME' or 'cscli bouncers add NAME'`,
      );
    }
    if (status === 404) {
      return new LapiError(
        'not_found',
        status,
        `the Local API at ${this.#shown} has no ${route} (404): check api_url, the Local API's base URL such as http://127.0.0.1:8080/`,
      );
    }
    return new LapiError('http', status, `the Local API at ${this.#shown} answered ${status} to ${route}${said ? `: ${said}` : ''}`);
  }

  #bad(path: string, why: string): LapiError {
    return new LapiError('bad_response', 200, `unexpected answer from the Local API at ${this.#shown} to /${path.split('?')[0]}: ${why}`);
  }
}
