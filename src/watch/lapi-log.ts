/**
 * Where `vigil watch` reads CrowdSec's Local API log from: the files CrowdSec writes with
 * `log_media: file` (the access log `crowdsec_api.log`, and `crowdsec.log` for the Local API's
 * start lines), or journald with `log_media: stdout` under systemd (`journalctl -u UNIT -f -o cat`).
 * Each read hands over the lines that arrived since the last one; parsing is core/watch/access-log.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { FileTail } from './log-tail.ts';

export type LapiLogSpec =
  | { type: 'file'; accessLog: string; mainLog: string | null; from: string; explicit: boolean }
  | { type: 'journald'; unit: string; from: string; explicit: boolean };

export interface LapiLogRead {
  lines: string[];
  /** Why a part could not be read this time; undefined when all was read. */
  error?: string;
  rotations: number;
}

export interface LapiLogReader {
  readonly description: string;
  read(): Promise<LapiLogRead>;
  close(): Promise<void>;
}

export function describeLapiLog(spec: LapiLogSpec): string {
  return spec.type === 'file' ? spec.accessLog : `journald (unit ${spec.unit})`;
}

export class FileLapiLog implements LapiLogReader {
  readonly description: string;
  #access: FileTail;
  #main: FileTail | null;

  constructor(accessLog: string, mainLog: string | null, opts: { startBytes?: number } = {}) {
    this.description = accessLog;
    this.#access = new FileTail(accessLog, opts);
    this.#main = mainLog ? new FileTail(mainLog, opts) : null;
  }

  async read(): Promise<LapiLogRead> {
    const a = await this.#access.read();
    const m = this.#main ? await this.#main.read() : undefined;
    // crowdsec.log is extra (restarts, unknown machines): only the access log's failure counts.
    return { lines: m ? [...a.lines, ...m.lines] : a.lines, ...(a.error ? { error: a.error } : {}), rotations: a.rotations };
  }

  async close(): Promise<void> {
    await this.#access.close();
    await this.#main?.close();
  }
}

/** Follows `journalctl -u UNIT -f -o cat` (the last 24 h first), buffering lines between reads. */
export class JournaldLapiLog implements LapiLogReader {
  readonly description: string;
  #child: ChildProcess | undefined;
  #lines: string[] = [];
  #partial = '';
  #error: string | undefined;
  #unit: string;
  #command: string;

  constructor(unit: string, opts: { command?: string; since?: string } = {}) {
    this.#unit = unit;
    this.#command = opts.command ?? 'journalctl';
    this.description = `journald (unit ${unit})`;
    this.#start(opts.since ?? '-24h');
  }

  #start(since: string): void {
    const child = spawn(this.#command, ['-u', this.#unit, '-f', '-o', 'cat', '--no-pager', '--since', since], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      const text = this.#partial + d;
      const parts = text.split('\n');
      this.#partial = parts.pop() ?? '';
      // Bounded: a reader that is not polled does not grow without limit.
      if (this.#lines.length < 1_000_000) this.#lines.push(...parts);
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (e) => {
      this.#error = `${this.#command}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : e.message}`;
    });
    child.on('exit', (code, signal) => {
      if (this.#child === child && !this.#error)
        this.#error = `${this.#command} exited (${code ?? signal})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`;
    });
  }

  async read(): Promise<LapiLogRead> {
    const lines = this.#lines;
    this.#lines = [];
    return { lines, ...(this.#error ? { error: this.#error } : {}), rotations: 0 };
  }

  async close(): Promise<void> {
    const c = this.#child;
    this.#child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  }
}

export function lapiLogReader(spec: LapiLogSpec, opts: { startBytes?: number } = {}): LapiLogReader {
  return spec.type === 'file' ? new FileLapiLog(spec.accessLog, spec.mainLog, opts) : new JournaldLapiLog(spec.unit);
}
