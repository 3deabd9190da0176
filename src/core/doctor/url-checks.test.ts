import { describe, expect, it } from 'vitest';
import { checkLapiUrl } from './url-checks.ts';

const checks = (url: string, style: 'yaml' | 'conf' | 'url' = 'yaml') =>
  checkLapiUrl(url, style, 'f.yaml:1 (api_url)').findings.map((f) => `${f.check}:${f.status}`);

describe('Local API URL checks', () => {
  it('accepts the documented forms', () => {
    expect(checks('http://127.0.0.1:8080/')).toEqual(['url.form:ok']);
    expect(checks('http://127.0.0.1:8080', 'conf')).toEqual(['url.form:ok']);
    expect(checks('https://lapi.example/')).toEqual(['url.form:ok']);
    const r = checkLapiUrl('http://[::1]:8080/', 'yaml', '');
    expect(r.endpoint).toMatchObject({ host: '::1', port: 8080, isAddress: true, base: 'http://[::1]:8080/' });
  });

  it('the trailing slash: a warning for Go bouncers, a failure for the Lua ones', () => {
    expect(checks('http://127.0.0.1:8080')).toEqual(['url.trailing-slash:warn']);
    expect(checks('http://127.0.0.1:8080/lapi')).toEqual(['url.trailing-slash:warn']);
    expect(checkLapiUrl('http://127.0.0.1:8080/lapi', 'yaml', '').endpoint?.base).toBe('http://127.0.0.1:8080/lapi/');
    const lua = checkLapiUrl('http://127.0.0.1:8080/', 'conf', 'x.conf:2 (API_URL)').findings[0];
    expect(lua.status).toBe('fail');
    expect(lua.title).toContain('requests "//v1/decisions/stream"');
    expect(lua.fix).toBe('remove the trailing slash: API_URL=http://127.0.0.1:8080');
  });

  it('refuses what cannot be a Local API base URL', () => {
    expect(checks('127.0.0.1:8080')).toEqual(['url.parse:fail']);
    expect(checkLapiUrl('lapi:8080', 'yaml', '').findings[0].title).toBe('api_url "lapi:8080" is not a URL (no http:// in front)');
    expect(checks('not a url')).toEqual(['url.parse:fail']);
    expect(checks('ftp://lapi:8080/')).toEqual(['url.scheme:fail']);
    expect(checks('http://127.0.0.1:8080/v1/decisions/stream')).toEqual(['url.path:fail']);
    expect(checks('http://127.0.0.1:8080/?x=1')).toEqual(['url.query:warn', 'url.form:ok']);
    expect(checks('http://lapi/')).toEqual(['url.port:warn', 'url.form:ok']);
    expect(checks('http://u:p@lapi:8080/')).toEqual(['url.credentials:warn', 'url.form:ok']);
    // BLaaS endpoints are full stream URLs by design.
    expect(checks('https://admin.api.crowdsec.net/v1/decisions/stream', 'conf')).toEqual(['url.form:ok']);
  });

  it('never shows a password from the URL', () => {
    const f = checkLapiUrl('http://u:secret@lapi:8080/', 'yaml', '').findings;
    expect(JSON.stringify(f)).not.toContain('secret');
  });
});
