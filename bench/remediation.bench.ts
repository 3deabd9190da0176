/**
 * The Vigil bouncer at CrowdSec scale: 100k mixed IPv4/IPv6 addresses and ranges.
 *   1. lookups per second on one core (bouncer.check(text): parse + cache lookup), and the full
 *      per-request path (handle(): client address, optionally from a trusted proxy's header);
 *   2. memory for 100k decisions, and the time to load a 100k startup pull (JSON.parse + cache);
 *   3. a node:http hello-world's requests per second with and without the middleware, measured in
 *      the same run (autocannon; servers in child processes, alternating).
 *
 * Run: npm run bench:bouncer   (node --expose-gc bench/remediation.bench.ts)
 * Env: BENCH_DURATION (s, default 8), BENCH_WARMUP (s, default 2), BENCH_ROUNDS (default 3),
 *      BENCH_LOOKUPS (per case, default 2,000,000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { formatWords, parseRange } from '../src/lib/ip.ts';
import { formatGoDuration } from '../src/lib/duration.ts';
import { createBouncer, withBouncer, type Bouncer, type RequestView } from '../src/remediation/index.ts';
import { parseAddressInto, type WireDecision } from '../src/remediation/decision-cache.ts';
import { seededU32 } from './support.ts';

const TOTAL = 100_000;
const ROOT = path.join(import.meta.dirname, '..');

// ------------------------------------------------------------------------------------------
// Deterministic data, the same mix as bench/decision-index.bench.ts

const u32 = seededU32(0x5eed);
const pick = <T>(xs: readonly T[]): T => xs[u32() % xs.length];
const v4Text = (): string => formatWords(4, [u32()]);
const v6Text = (): string => formatWords(6, [((u32() & 0x1fffffff) | 0x20000000) >>> 0, u32(), u32(), u32()]);
const MIX = { v4Ip: 0.6, v4Range: 0.1, v6Ip: 0.25, v6Range: 0.05 };
const V4_PREFIXES = [16, 20, 22, 24, 24, 24, 26, 28, 30];
const V6_PREFIXES = [32, 48, 48, 56, 64, 64, 64];
const ORIGINS = ['crowdsec', 'CAPI', 'lists', 'cscli'];
const SCENARIOS = ['crowdsecurity/ssh-bf', 'crowdsecurity/http-probing', 'crowdsecurity/http-crawl-non_statics', 'firehol_level1'];

type Wire = WireDecision;

function makeWire(): Wire[] {
  const out: Wire[] = [];
  const push = (scope: string, value: string) =>
    out.push({
      duration: formatGoDuration(3_600_000 + (u32() % 86_400_000) + 0.123456),
      id: out.length + 1,
      origin: pick(ORIGINS),
      scenario: pick(SCENARIOS),
      scope,
      type: u32() % 20 === 0 ? 'captcha' : 'ban',
      value,
    });
  for (let i = 0; i < TOTAL * MIX.v4Ip; i++) push('Ip', v4Text());
  for (let i = 0; i < TOTAL * MIX.v4Range; i++) push('Range', `${v4Text()}/${pick(V4_PREFIXES)}`);
  for (let i = 0; i < TOTAL * MIX.v6Ip; i++) push('Ip', v6Text());
  for (let i = 0; i < TOTAL * MIX.v6Range; i++) push('Range', `${v6Text()}/${pick(V6_PREFIXES)}`);
  for (let i = out.length - 1; i > 0; i--) {
    const j = u32() % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function addressIn(value: string): string {
  if (!value.includes('/')) return value;
  const r = parseRange(value);
  const words = r.first.map((w, i) => {
    const bits = r.prefixLength - 32 * i;
    const mask = bits <= 0 ? 0 : bits >= 32 ? -1 : -1 << (32 - bits);
    return (w | (u32() & ~mask)) >>> 0;
  });
  return formatWords(r.family, words);
}

function loadedBouncer(wire?: Wire[], trustedProxies: string[] = []): Bouncer {
  const b = createBouncer({ apiUrl: 'http://127.0.0.1:9/', apiKey: 'bench', autoStart: false, usageMetricsInterval: 0, trustedProxies });
  b.cache.replace(wire ?? makeWire(), Date.now());
  return b;
}

// ------------------------------------------------------------------------------------------
// Child mode: a hello-world server, plain or behind the middleware

const [mode, portArg] = [process.argv[2], process.argv[3]];
if (mode === '--serve-plain' || mode === '--serve-bouncer' || mode === '--serve-bouncer-xff') {
  const hello: http.RequestListener = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello world');
  };
  const listener = mode === '--serve-plain' ? hello : withBouncer(loadedBouncer(undefined, mode === '--serve-bouncer-xff' ? ['127.0.0.1'] : []), hello);
  http.createServer(listener).listen(Number(portArg), '127.0.0.1', () => process.send?.('ready'));
} else {
  await runBench();
}

// ------------------------------------------------------------------------------------------

async function runBench(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = (): number => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const MB = 1048576;
  const tStart = Date.now();
  console.log(
    `Vigil bouncer benchmark: ${TOTAL.toLocaleString('en-US')} decisions, node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );

  // --- memory and load time -------------------------------------------------------------
  // The wire decisions and the JSON body exist before the first measure and after the second, so
  // the difference is what the cache keeps (the parsed objects are garbage once indexed).
  const wire: Wire[] = makeWire();
  const body = JSON.stringify({ deleted: null, new: wire });
  const bodyMb = Buffer.byteLength(body) / MB;
  const heap0 = heap();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let parsed: { new: Wire[] } | null = JSON.parse(body) as { new: Wire[] };
  const bouncer = createBouncer({ apiUrl: 'http://127.0.0.1:9/', apiKey: 'bench', autoStart: false, usageMetricsInterval: 0 });
  bouncer.cache.replace(parsed.new, Date.now());
  const loadMs = performance.now() - t0;
  parsed = null;
  const heapDelta = heap() - heap0;
  const rssDelta = process.memoryUsage().rss - rss0;
  if (body.length === 0) throw new Error('unreachable'); // keeps the body alive across the measure
  const queriesSource = wire;

  // --- lookups ---------------------------------------------------------------------------
  const QUERIES = 200_000;
  const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 2_000_000);
  const v4 = queriesSource.filter((d) => !d.value.includes(':'));
  const v6 = queriesSource.filter((d) => d.value.includes(':'));
  const make = (source: Wire[], miss: () => string) => Array.from({ length: QUERIES }, (_, i) => (i % 2 === 0 ? addressIn(pick(source).value) : miss()));
  const qv4 = make(v4, v4Text);
  const qv6 = make(v6, v6Text);
  const qmixed = Array.from({ length: QUERIES }, (_, i) => (i % 4 < 2 ? qv4[i]! : qv6[i]!)); // half IPv4, half IPv6; half hits
  const qmapped = qv4.map((t) => `::ffff:${t}`);

  interface LookupRow {
    case: string;
    'lookups/s': string;
    'ns/lookup': string;
    'blocked share': string;
  }
  const lookupRows: LookupRow[] = [];
  const measure = (name: string, n: number, fn: (i: number) => boolean) => {
    // Each case starts on a collected heap: the first one would otherwise pay for the load's garbage.
    (globalThis as { gc?: () => void }).gc?.();
    for (let i = 0; i < 50_000; i++) fn(i);
    let blocked = 0;
    const s = performance.now();
    for (let i = 0; i < n; i++) if (fn(i)) blocked++;
    const ms = performance.now() - s;
    lookupRows.push({
      case: name,
      'lookups/s': Math.round((n / ms) * 1000).toLocaleString('en-US'),
      'ns/lookup': ((ms * 1e6) / n).toFixed(0),
      'blocked share': `${((100 * blocked) / n).toFixed(1)}%`,
    });
  };
  const blockedText = (list: string[]) => (i: number) => (bouncer.check(list[i % QUERIES]!) as { remediation: string }).remediation !== 'bypass';
  measure('check(text), mixed IPv4/IPv6, half hits', LOOKUPS, blockedText(qmixed));
  measure('check(text), IPv4', LOOKUPS, blockedText(qv4));
  measure('check(text), IPv6', LOOKUPS, blockedText(qv6));
  measure('check(text), IPv4-mapped IPv6 (::ffff:a.b.c.d)', LOOKUPS, blockedText(qmapped));
  // Pre-parsed words in one flat array, so this case measures the index alone.
  const flat = new Uint32Array(QUERIES * 4);
  const families = new Uint8Array(QUERIES);
  qmixed.forEach((t, i) => {
    const w = new Uint32Array(4);
    families[i] = parseAddressInto(t, w);
    flat.set(w, i * 4);
  });
  const scratch = new Uint32Array(4);
  const now = Date.now();
  measure('cache lookup alone (pre-parsed), mixed, half hits', LOOKUPS, (i) => {
    const q = i % QUERIES;
    scratch.set(flat.subarray(q * 4, q * 4 + 4));
    return bouncer.cache.strongest(families[q] as 4 | 6, scratch, now) !== undefined;
  });
  const view = (peer: string, xff?: string): RequestView => ({ method: 'GET', url: '/', headers: xff ? { 'x-forwarded-for': xff } : {}, peer });
  const blocked = (b: Bouncer, list: RequestView[]) => (i: number) => (b.handle(list[i % list.length]!) as { action: string }).action !== 'allow';
  const cleanV4 = qv4.filter((_, i) => i % 2 === 1);
  const cleanMixed = qmixed.filter((_, i) => i % 2 === 1);
  measure(
    'handle(request), clean client, peer address',
    LOOKUPS / 2,
    blocked(
      bouncer,
      cleanMixed.map((t) => view(t)),
    ),
  );
  const proxied = loadedBouncer(queriesSource, ['127.0.0.1', '10.0.0.0/8']);
  measure(
    'handle(request), clean client via 2 trusted proxies (X-Forwarded-For)',
    LOOKUPS / 2,
    blocked(
      proxied,
      cleanV4.map((t) => view('127.0.0.1', `${t}, 10.0.0.7`)),
    ),
  );
  const bannedViews = queriesSource
    .filter((d) => d.type === 'ban')
    .slice(0, 20_000)
    .map((d) => view(addressIn(d.value)));
  measure('handle(request), banned client (renders the 403 page)', LOOKUPS / 10, blocked(bouncer, bannedViews));

  // --- HTTP ------------------------------------------------------------------------------
  const DURATION = Number(process.env.BENCH_DURATION ?? 8);
  const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const NODE = process.execPath;
  const servers: Record<string, { proc: ChildProcess; port: number }> = {};
  const start = async (name: string, flag: string, port: number) => {
    const proc = spawn(NODE, [path.join(ROOT, 'bench', 'remediation.bench.ts'), flag, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      proc.once('message', () => resolve());
      proc.once('exit', (c) => reject(new Error(`${name} server exited ${c}`)));
    });
    servers[name] = { proc, port };
  };
  const basePort = 20_000 + (process.pid % 20_000);
  await start('plain', '--serve-plain', basePort);
  await start('bouncer', '--serve-bouncer', basePort + 1);
  await start('bouncer-xff', '--serve-bouncer-xff', basePort + 2);
  const cannon = async (port: number, headers: Record<string, string>, duration: number) =>
    autocannon({ url: `http://127.0.0.1:${port}/`, connections: 50, duration, headers });
  const results: Record<string, number[]> = { plain: [], bouncer: [], 'bouncer-xff': [] };
  const xffHeaders = { 'x-forwarded-for': '198.51.100.23' };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so drift in the machine's load does not favour one side.
    const order = round % 2 === 0 ? ['plain', 'bouncer', 'bouncer-xff'] : ['bouncer-xff', 'bouncer', 'plain'];
    for (const name of order) {
      const s = servers[name]!;
      const headers = name === 'bouncer-xff' ? xffHeaders : {};
      if (WARMUP > 0) await cannon(s.port, headers, WARMUP);
      const r = await cannon(s.port, headers, DURATION);
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      results[name]!.push(r.requests.average);
    }
  }
  for (const s of Object.values(servers)) s.proc.kill();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const plain = median(results.plain!);
  const httpRows = [
    { server: 'node:http hello world', 'req/s (median)': plain, runs: results.plain! },
    { server: '+ bouncer middleware (peer address)', 'req/s (median)': median(results.bouncer!), runs: results.bouncer! },
    { server: '+ bouncer middleware (trusted proxy, X-Forwarded-For)', 'req/s (median)': median(results['bouncer-xff']!), runs: results['bouncer-xff']! },
  ];

  // --- report ----------------------------------------------------------------------------
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`\nLoad: a ${bodyMb.toFixed(1)} MB startup pull (100k decisions) parsed and indexed in ${loadMs.toFixed(0)} ms`);
  console.log(
    `Memory for ${TOTAL.toLocaleString('en-US')} decisions: heap +${(heapDelta / MB).toFixed(1)} MB (${Math.round(heapDelta / TOTAL)} bytes/decision), RSS +${(rssDelta / MB).toFixed(1)} MB${gc ? '' : ' (run with --expose-gc for a steady figure)'}`,
  );
  console.log('\nLookups (one core, 2M per case):');
  console.table(lookupRows);
  console.log(
    `\nnode:http hello world, autocannon 50 connections, ${DURATION}s runs after ${WARMUP}s warm-up, ${ROUNDS} rounds alternating (100k decisions loaded, clean client):`,
  );
  console.table(
    httpRows.map((r) => ({
      server: r.server,
      'req/s (median)': fmt(r['req/s (median)']),
      'vs plain': `${((100 * r['req/s (median)']) / plain - 100).toFixed(1)}%`,
      runs: r.runs.map(fmt).join(' / '),
    })),
  );

  const md: string[] = [
    '| metric | value |',
    '|---|---|',
    `| startup pull of 100k decisions (${bodyMb.toFixed(1)} MB JSON): parse + index | ${loadMs.toFixed(0)} ms |`,
    `| memory for 100k decisions (heap) | ${(heapDelta / MB).toFixed(1)} MB (${Math.round(heapDelta / TOTAL)} B/decision) |`,
    ...lookupRows.map((r) => `| ${r.case} | ${r['lookups/s']} lookups/s (${r['ns/lookup']} ns) |`),
    ...httpRows.map((r) => `| ${r.server} | ${fmt(r['req/s (median)'])} req/s (${((100 * r['req/s (median)']) / plain - 100).toFixed(1)}%) |`),
  ];
  console.log(`\n${md.join('\n')}`);
  const out = path.join(ROOT, 'bench', 'results', `remediation-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    out,
    `${JSON.stringify({ node: process.version, loadavg: os.loadavg(), loadMs, bodyMb, heapDelta, rssDelta, lookupRows, httpRows }, null, 2)}\n`,
  );
  console.log(`\nwritten ${path.relative(ROOT, out)}; wall time ${((Date.now() - tStart) / 1000).toFixed(0)} s`);
}
