/**
 * The Local API URL as a bouncer will use it: scheme, host, port, path, and the trailing `/` the
 * seed warns about. Pure.
 *
 * The trailing slash cuts both ways, and this is the point of checking it per format:
 * - Go bouncers (YAML `api_url`) resolve `v1/decisions/stream` against the URL; the documented form
 *   ends with `/`. go-cs-bouncer adds a missing one (observed with crowdsec-custom-bouncer 0.0.15:
 *   `http://127.0.0.1:8080/lapi` requested `/lapi/v1/decisions/stream`), other clients do not: warn.
 * - The Lua bouncers (nginx, openresty, haproxy `API_URL=`) concatenate
 *   `API_URL .. "/v1/decisions/stream"`, so a trailing `/` gives `//v1/decisions/stream`, which the
 *   Local API answers 404 (Vigil's health engine reports it as a wrong path): fail.
 */
import { fail, ok, redactUrl, warn, type Finding } from './finding.ts';

export interface LapiEndpoint {
  url: URL;
  protocol: 'http' | 'https';
  /** Host name or address as written (IPv6 without brackets). */
  host: string;
  port: number;
  /** The host is a literal address: no DNS lookup needed. */
  isAddress: boolean;
  /** The base every Local API path is appended to, always ending with `/`. */
  base: string;
}

export type UrlStyle = 'yaml' | 'conf' | 'url';

export function checkLapiUrl(raw: string, style: UrlStyle, where: string): { findings: Finding[]; endpoint?: LapiEndpoint } {
  const findings: Finding[] = [];
  const urlKey = style === 'conf' ? 'API_URL' : 'api_url';
  let url: URL;
  try {
    url = new URL(raw);
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new Error('no scheme');
  } catch {
    return {
      findings: [
        fail('url', 'url.parse', `${urlKey} "${raw}" is not a URL${/:\/\//.test(raw) ? '' : ' (no http:// in front)'}`, {
          evidence: [where],
          fix: `set ${urlKey} to the Local API's base URL, e.g. http://127.0.0.1:8080${style === 'conf' ? '' : '/'}`,
        }),
      ],
    };
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') {
    findings.push(
      fail('url', 'url.scheme', `${urlKey} uses "${scheme}://": the Local API speaks http or https`, {
        evidence: [where],
        fix: `use http://HOST:8080${style === 'conf' ? '' : '/'} (or https:// when the Local API has TLS)`,
      }),
    );
    return { findings };
  }
  if (url.hostname === '') {
    findings.push(fail('url', 'url.host', `${urlKey} has no host`, { evidence: [where], fix: `put the Local API's host in ${urlKey}` }));
    return { findings };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const isAddress = /^[\d.]+$/.test(host) || host.includes(':');
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  findings.push(...formWarnings(url, scheme, urlKey, style, where));

  // The path as written: URL() turns an empty path into "/", which would hide a missing slash.
  const path = raw.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
  findings.push(pathFinding({ raw, url, path, scheme, host, port, urlKey, style, where }));

  const basePath = path.endsWith('/') ? path : `${path}/`;
  const base = `${url.protocol}//${url.host}${basePath}`;
  return { findings, endpoint: { url, protocol: scheme, host, port, isAddress, base } };
}

/** What the bouncer would ignore or get wrong in the URL's form: credentials, a missing port, a query. */
function formWarnings(url: URL, scheme: string, urlKey: string, style: UrlStyle, where: string): Finding[] {
  const out: Finding[] = [];
  if (url.username || url.password) {
    out.push(
      warn('url', 'url.credentials', `${urlKey} carries a user name or password: the Local API authenticates with the key, not with these`, {
        evidence: [where],
        fix: `remove "user:password@" from ${urlKey}`,
      }),
    );
  }
  if (!url.port && scheme === 'http') {
    out.push(
      warn('url', 'url.port', `${urlKey} has no port: the bouncer connects to port 80, the Local API listens on 8080 by default`, {
        evidence: [where],
        fix: `add the port, e.g. http://${url.host}:8080${style === 'conf' ? '' : '/'}, unless a proxy serves the Local API on 80`,
      }),
    );
  }
  if (url.search || url.hash) {
    out.push(
      warn('url', 'url.query', `${urlKey} has a query or fragment ("${url.search}${url.hash}"): the bouncer appends paths after it`, {
        evidence: [where],
        fix: `remove everything from "?" or "#" in ${urlKey}`,
      }),
    );
  }
  return out;
}

interface PathInput {
  raw: string;
  url: URL;
  /** The path as written. */
  path: string;
  scheme: string;
  host: string;
  port: number;
  urlKey: string;
  style: UrlStyle;
  where: string;
}

/** The path: the base URL only, with the trailing "/" each bouncer family needs (see the top of this file). */
function pathFinding({ raw, url, path, scheme, host, port, urlKey, style, where }: PathInput): Finding {
  const isBlaas = /(^|\.)api\.crowdsec\.net$/i.test(host);
  if (/\/v1\/decisions/.test(path) && !isBlaas) {
    return fail('url', 'url.path', `${urlKey} includes the API path "${path}": it must be the Local API's base URL`, {
      evidence: [where, `the bouncer would request ${path.replace(/\/$/, '')}/v1/decisions/stream`],
      fix: `set ${urlKey} to ${url.origin}${style === 'conf' ? '' : '/'}`,
    });
  }
  if (style === 'conf' && path.endsWith('/') && !isBlaas) {
    const doubled = `${path}/v1/decisions/stream`;
    return fail(
      'url',
      'url.trailing-slash',
      `API_URL ends with "/": the Lua bouncer appends "/v1/decisions/…" and requests "${doubled.replace(/^\/\//, '//')}", which the Local API answers 404`,
      {
        evidence: [where],
        fix: `remove the trailing slash: API_URL=${url.origin}${path.replace(/\/+$/, '')}`,
      },
    );
  }
  if (style !== 'conf' && !path.endsWith('/')) {
    return warn('url', 'url.trailing-slash', `${urlKey} has no trailing "/" (the seed's common configuration error)`, {
      evidence: [where, 'go-cs-bouncer adds it itself, other clients resolve paths against the last segment and drop it'],
      fix: `end ${urlKey} with "/": ${url.origin}${path}/`,
    });
  }
  return ok('url', 'url.form', `${urlKey} ${redactUrl(raw)}: ${scheme}, host ${host}, port ${port}, path ${path || '/'}`, { evidence: [where] });
}
