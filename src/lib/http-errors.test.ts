import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { VigilError } from './errors.ts';
import { HTTP_STATUS_BY_CODE, httpErrorOf, installErrorHandler } from './http-errors.ts';
import { createLogger } from './logger.ts';

describe('the HTTP edge', () => {
  const lines: string[] = [];
  const log = createLogger('error', (s) => lines.push(s));
  const app = new Hono();
  installErrorHandler(app, log, 'test');
  app.get('/input', () => {
    throw new VigilError('E_BAD_IP', 'ip "x": not an IPv4 or IPv6 address; use e.g. 192.0.2.1');
  });
  app.get('/missing', () => {
    throw new VigilError('E_NO_ISSUE', 'issue 9: no such issue');
  });
  app.get('/down', () => {
    throw new VigilError('E_STORE_DOWN', 'store unavailable: retry shortly');
  });
  app.get('/bug', () => {
    throw new TypeError('secret detail');
  });

  it('answers a VigilError with its code’s status and a {"message"} body', async () => {
    const r = await app.request('/input');
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await r.json()).toEqual({ message: 'ip "x": not an IPv4 or IPv6 address; use e.g. 192.0.2.1' });
    expect((await app.request('/missing')).status).toBe(404);
    expect((await app.request('/down')).status).toBe(503);
  });

  it('answers anything else with a bare 500, logged, the detail never sent', async () => {
    const r = await app.request('/bug');
    expect(r.status).toBe(500);
    expect(await r.text()).toBe('{"message":"internal error"}');
    expect(lines.join('')).toContain('secret detail');
  });

  it('has one status per listed code, and 400 for the rest', () => {
    expect(HTTP_STATUS_BY_CODE.E_SILENCE_ENDED).toBe(409);
    expect(httpErrorOf(new VigilError('E_CONFIG', 'x'))?.status).toBe(400);
    expect(httpErrorOf(new Error('x'))).toBeNull();
  });
});
