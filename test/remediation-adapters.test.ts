import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { createBouncer, expressBouncer, fastifyBouncer, withBouncer, type Bouncer } from '../src/remediation/index.ts';
import { memoryLogger, request, solvePage, startTestLapi, type TestLapi } from './remediation-helpers.ts';

/**
 * The adapters inside real servers — node:http, Express 5 and Fastify 5 — with a bouncer fed by a
 * real `vigil serve`: bans (HTML and JSON), the captcha flow solved as a browser would, clean
 * traffic, and a client that tries to choose its address with X-Forwarded-For.
 */
const T0 = Date.UTC(2026, 10, 24, 7, 0, 0);

interface App {
  name: string;
  url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('adapters', () => {
  const clock = new ManualClock(T0);
  let lapi: TestLapi;
  let bouncer: Bouncer;
  const apps: App[] = [];
  const { lines, logger } = memoryLogger();

  beforeAll(async () => {
    lapi = await startTestLapi(clock);
    const key = await lapi.addBouncer('apps');
    await lapi.addDecision('Ip', '192.0.2.66', 'ban');
    await lapi.addDecision('Range', '2001:db8:66::/48', 'ban');
    await lapi.addDecision('Ip', '192.0.2.77', 'captcha');
    await lapi.addDecision('Ip', '127.0.0.3', 'ban');
    bouncer = createBouncer({
      apiUrl: lapi.url,
      apiKey: key,
      clock,
      autoStart: false,
      trustedProxies: ['127.0.0.1'],
      captcha: { difficulty: 10, signingKey: 'test-signing-key-0123456789abcdef' },
      logger,
    });
    await bouncer.pull();

    const plain = http.createServer(withBouncer(bouncer, (_req, res) => res.end('hello from node:http')));
    apps.push({ name: 'node:http', url: await listen(plain), close: () => new Promise((r) => plain.close(() => r())) });

    const ex = express();
    ex.use(expressBouncer(bouncer));
    ex.get('/{*any}', (_req, res) => {
      res.send('hello from express');
    });
    const exServer = http.createServer(ex);
    apps.push({ name: 'express', url: await listen(exServer), close: () => new Promise((r) => exServer.close(() => r())) });

    const fa = Fastify();
    await fa.register(fastifyBouncer(bouncer));
    fa.get('/*', async () => 'hello from fastify');
    const faUrl = await fa.listen({ port: 0, host: '127.0.0.1' });
    apps.push({ name: 'fastify', url: faUrl, close: () => fa.close() });
  });

  afterAll(async () => {
    for (const a of apps) await a.close();
    await bouncer?.stop();
    await lapi?.close();
  });

  const each = (title: string, fn: (app: App) => Promise<void>) => {
    for (const name of ['node:http', 'express', 'fastify']) {
      it(`${name}: ${title}`, async () => fn(apps.find((a) => a.name === name)!));
    }
  };

  each('a clean client reaches the application', async (app) => {
    const r = await request(app.url, '/hello', { headers: { 'X-Forwarded-For': '198.51.100.1' } });
    expect(r.status).toBe(200);
    expect(r.text).toBe(`hello from ${app.name}`);
  });

  each('a banned address sent by a trusted proxy gets the 403 page, or JSON when it asks for JSON', async (app) => {
    const page = await request(app.url, '/hello', { headers: { 'X-Forwarded-For': '10.0.0.1, 192.0.2.66', Accept: 'text/html' } });
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<h1>Access denied</h1>');
    expect(page.text).not.toContain('hello from');
    const json = await request(app.url, '/api/items', { headers: { 'X-Forwarded-For': '2001:db8:66::beef', Accept: 'application/json' } });
    expect(json.status).toBe(403);
    expect(JSON.parse(json.text)).toEqual({ message: 'access denied', remediation: 'ban' });
  });

  each('an untrusted client cannot choose its address with X-Forwarded-For', async (app) => {
    // 127.0.0.3 is banned and claims to be a clean address; 127.0.0.2 is clean and claims a banned one.
    const spoof = await request(app.url, '/', { headers: { 'X-Forwarded-For': '198.51.100.9' }, localAddress: '127.0.0.3' });
    expect(spoof.status).toBe(403);
    const framed = await request(app.url, '/', { headers: { 'X-Forwarded-For': '192.0.2.66' }, localAddress: '127.0.0.2' });
    expect(framed.status).toBe(200);
  });

  each('captcha: the challenge page, solved as a browser would, then a cookie that lets the client in', async (app) => {
    const xff = { 'X-Forwarded-For': '192.0.2.77', Accept: 'text/html' };
    const challenge = await request(app.url, '/shop?item=3', { headers: xff });
    expect(challenge.status).toBe(401);
    expect(challenge.text).toContain('Checking your browser');
    const { challenge: c, nonce } = solvePage(challenge.text);
    const wrong = await request(app.url, `/.vigil/captcha/verify?c=${encodeURIComponent(c)}&n=999999999999&r=%2Fshop`, { headers: xff });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('was not accepted');
    const solved = await request(app.url, `/.vigil/captcha/verify?c=${encodeURIComponent(c)}&n=${nonce}&r=${encodeURIComponent('/shop?item=3')}`, {
      headers: xff,
    });
    expect(solved.status).toBe(303);
    expect(solved.headers.location).toBe('/shop?item=3');
    const cookie = String(solved.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^vigil_captcha=/);
    const after = await request(app.url, '/shop?item=3', { headers: { ...xff, Cookie: cookie } });
    expect(after.status).toBe(200);
    expect(after.text).toBe(`hello from ${app.name}`);
    // The pass belongs to that address only.
    const elsewhere = await request(app.url, '/shop', { headers: { 'X-Forwarded-For': '192.0.2.66', Cookie: cookie } });
    expect(elsewhere.status).toBe(403);
  });

  it('logs one line per remediation with the address and the remediation', () => {
    expect(lines.some((l) => l.startsWith('info ban 192.0.2.66 (cscli: test ban)'))).toBe(true);
    expect(lines.some((l) => l.startsWith('info captcha 192.0.2.77'))).toBe(true);
  });
});
