/**
 * The pieces every time-to-know row is built from: a pager (a real HTTP webhook receiver that notes
 * when each message arrived), a real `vigil serve` or `vigil watch` process that can be stopped and
 * started again on the same port and store, the real CLI, and waiting without fixed sleeps.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, sleep } from '../support.ts';

const exec = promisify(execFile);
export const ROOT = path.join(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/vigil.js');

/** One issue as a webhook message carries it (src/notify/channels/webhook/render.ts). */
export interface PagedIssue {
  id: number;
  kind: string;
  criticality: string;
  subject: string;
  bouncer: string | null;
  likelyCause: { cause: string } | null;
  previous?: { criticality?: string };
}

export interface Page {
  at: number;
  event: string;
  headline: string;
  issues: PagedIssue[];
}

/** What a person's pager gets, and when: a real HTTP receiver on loopback. */
export class Pager {
  readonly pages: Page[] = [];
  #server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        this.pages.push({ at: Date.now(), ...JSON.parse(body) });
      } catch {
        // Not a Vigil message: ignored, still answered.
      }
      res.writeHead(200).end();
    });
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
    return this;
  }

  close(): void {
    this.#server.close();
  }

  /** The first page at or after `from` that `pred` accepts, once it arrives (undefined after `timeoutMs`). */
  async first(pred: (p: Page) => boolean, from: number, timeoutMs: number): Promise<Page | undefined> {
    return await until(async () => this.pages.find((p) => p.at >= from && pred(p)), timeoutMs);
  }

  /** Pages at or after `from` that `pred` accepts (already arrived). */
  since(from: number, pred: (p: Page) => boolean = () => true): Page[] {
    return this.pages.filter((p) => p.at >= from && pred(p));
  }

  /** The webhook channel lines of vigil.yaml. */
  channelLines(name = 'pager'): string[] {
    return ['notifications:', '  channels:', `    ${name}:`, '      type: webhook', `      url: ${this.url}`];
  }
}

export const about = (subject: string) => (p: Page) => p.issues.some((i) => i.subject === subject || i.bouncer === subject);

/** Polls `fn` until it returns something other than undefined, or `timeoutMs` passes. */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

/** A real `vigil` process (serve or watch) in a work dir of its own, restartable on the same port and store. */
export class VigilProcess {
  readonly dir: string;
  readonly configPath: string;
  readonly url: string;
  #child: ChildProcess | undefined;
  #log = '';
  #command: string[];

  private constructor(dir: string, configPath: string, url: string, command: string[]) {
    this.dir = dir;
    this.configPath = configPath;
    this.url = url;
    this.#command = command;
  }

  /** `vigil serve` on a free loopback port with `lines` added to its vigil.yaml (defaults otherwise). */
  static async serve(dir: string, lines: string[]): Promise<VigilProcess> {
    const port = await freePort();
    const v = new VigilProcess(dir, path.join(dir, 'vigil.yaml'), `http://127.0.0.1:${port}/`, ['serve']);
    fs.mkdirSync(dir, { recursive: true });
    v.writeConfig([`listen: 127.0.0.1:${port}`, 'db: sqlite:./data/vigil.db', 'metrics_listen: off', ...lines]);
    return v;
  }

  /** `vigil watch --crowdsec-config FILE` with `lines` in its vigil.yaml; `url` is its admin listener. */
  static async watch(dir: string, crowdsecConfig: string, lines: string[]): Promise<VigilProcess> {
    const port = await freePort();
    const v = new VigilProcess(dir, path.join(dir, 'vigil.yaml'), `http://127.0.0.1:${port}/`, ['watch', '--crowdsec-config', crowdsecConfig]);
    fs.mkdirSync(dir, { recursive: true });
    v.writeConfig(['db: sqlite:./data/vigil.db', 'watch:', `  listen: 127.0.0.1:${port}`, ...lines]);
    return v;
  }

  writeConfig(lines: string[]): void {
    fs.writeFileSync(this.configPath, `${lines.join('\n')}\n`);
  }

  appendConfig(lines: string[]): void {
    fs.appendFileSync(this.configPath, `${lines.join('\n')}\n`);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  logs(): string {
    return this.#log;
  }

  /** Starts it and waits until it answers (serve: `/health`; watch: its admin listener). */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [BIN, ...this.#command, '--config', this.configPath], {
      cwd: this.dir,
      env: { ...process.env, VIGIL_CONFIG: this.configPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (this.#log += d));
    child.stderr!.on('data', (d) => (this.#log += d));
    this.#child = child;
    const probe = this.#command[0] === 'serve' ? `${this.url}health` : `${this.url}metrics`;
    // Generous: rows start side by side on a 2-core machine, and a start is not what is measured.
    const ok = await until(async () => ((await fetch(probe)).status < 500 ? true : undefined), 120_000, 200);
    if (!ok) throw new Error(`vigil ${this.#command[0]} did not answer on ${this.url} within 120 s:\n${this.#log.slice(-2000)}`);
  }

  /** SIGTERM (or another signal) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.#child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }

  signal(sig: NodeJS.Signals): void {
    this.#child?.kill(sig);
  }

  /** `vigil ...args` on this process's config; stdout. */
  async cli(...args: string[]): Promise<string> {
    return (await exec(process.execPath, [BIN, ...args], { cwd: this.dir, env: { ...process.env, VIGIL_CONFIG: this.configPath }, timeout: 60_000 })).stdout;
  }

  /** `vigil ...args`, whatever its exit code: { code, out } with stdout and stderr together. */
  async cliResult(...args: string[]): Promise<{ code: number; out: string }> {
    try {
      return { code: 0, out: await this.cli(...args) };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === 'number' ? err.code : 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  }

  async bouncer(name: string): Promise<{ name: string; health: string; pull_cadence_ms: number | null; last_pull: string | null } | undefined> {
    const rows = JSON.parse(await this.cli('bouncers', 'list', '-o', 'json')) as Array<{
      name: string;
      health: string;
      pull_cadence_ms: number | null;
      last_pull: string | null;
    }>;
    return rows.find((b) => b.name === name);
  }

  async openIssues(): Promise<Array<{ id: number; kind: string; criticality: string; subject: string }>> {
    return JSON.parse(await this.cli('issues', 'list', '-o', 'json')) as Array<{ id: number; kind: string; criticality: string; subject: string }>;
  }
}

/** One row of the matrix, as printed. */
export interface Row {
  row: string;
  /** What must happen: a page within the goal, or nothing at all. */
  expect: 'page' | 'quiet';
  /** Seconds from the fault to the page (page rows), or the seconds watched (quiet rows). */
  seconds: number | null;
  goalS: number;
  /** What was paged (kind, criticality, cause) or what was wrongly raised. */
  what: string;
  pass: boolean;
}

export const secondsSince = (t: number | undefined, from: number) => (t === undefined ? null : Math.round((t - from) / 100) / 10);

/** A page row: paged within the goal, with what the page said. */
export function pageRow(
  row: string,
  goalS: number,
  page: Page | undefined,
  from: number,
  subject: string,
  check: (i: PagedIssue) => string | null = () => null,
): Row {
  const s = secondsSince(page?.at, from);
  const issue = page?.issues.find((i) => i.subject === subject || i.bouncer === subject) ?? page?.issues[0];
  const wrong = issue ? check(issue) : null;
  const what = issue ? `${issue.kind} ${issue.criticality}${issue.likelyCause ? ` (${issue.likelyCause.cause})` : ''}${wrong ? ` — ${wrong}` : ''}` : 'no page';
  return { row, expect: 'page', seconds: s, goalS, what, pass: s !== null && s <= goalS && wrong === null };
}

/** A quiet row: nothing paged (beyond what `allowed` accepts) while it was watched. */
export function quietRow(row: string, watchedS: number, unexpected: Page[], note = ''): Row {
  const what = unexpected.length
    ? unexpected.map((p) => `${p.event} ${p.issues.map((i) => `${i.kind} ${i.criticality}`).join(',')}`).join('; ')
    : `nothing paged${note ? `; ${note}` : ''}`;
  return { row, expect: 'quiet', seconds: watchedS, goalS: watchedS, what, pass: unexpected.length === 0 };
}
