/**
 * The real crowdsec-custom-bouncer (0.0.15) against any LAPI URL: it runs
 * `bin_path add|del <value> <seconds> <scenario> <decision-json>` once per decision, and bin_path is a
 * recording script here, so a test reads every call in order (crowdsec-bouncers.ts says how it behaves).
 */
import fs from 'node:fs';
import path from 'node:path';
import { findExecutable } from '../../src/doctor/host.ts';
import { onProcessExit, spawnLogged, terminate, waitForLog } from './bouncer-process.ts';
import { type BouncerRunOptions, CUSTOM_BIN, sharedBouncerYaml, writeYaml } from './crowdsec-bouncers.ts';
import { until } from './wait.ts';

export interface CustomBouncerEvent {
  action: 'add' | 'del';
  /** decision value, e.g. 192.0.2.1 or 198.51.100.0/24 */
  value: string;
  /** remaining seconds, truncated to an integer (negative for deletions of expired decisions) */
  seconds: number;
  scenario: string;
  /** the decision as the bouncer serialised it (Go models.Decision JSON) */
  decision: Record<string, unknown>;
  /** the raw argv the script received (argv[1..]) */
  args: string[];
  /** when the script ran, ms since the epoch (from `date +%s%3N` inside the script) */
  at: number;
}

export interface CustomBouncerHandle {
  /** Lines the bouncer's script was called with, parsed, in call order. */
  events(): CustomBouncerEvent[];
  /** First event (already recorded or future) matching `pred`; rejects on timeout or if the bouncer exits. */
  waitFor(pred: (e: CustomBouncerEvent) => boolean, timeoutMs: number): Promise<CustomBouncerEvent>;
  /** The bouncer's own stdout/stderr so far. */
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  pid: number;
  /** undefined while running; the exit code (or -1 when killed by a signal) afterwards */
  exitCode(): number | null | undefined;
  /** Paths of what the harness wrote. */
  files: { dir: string; config: string; script: string; events: string };
}

export interface CustomBouncerOptions extends BouncerRunOptions {
  /** Go duration; default '10s' as shipped. Same (value,type) add/del calls are suppressed within it. */
  cacheRetentionDuration?: string;
}

// Each call becomes one record: <ms-timestamp>\0<argc>\0<arg1>\0...<argN>\0, written with a single
// append (cat of a temp file) so concurrent calls cannot interleave. Args may contain anything but NUL.
const RECORDER_SCRIPT = `#!/bin/sh
# written by test/support/custom-bouncer.ts: records one crowdsec-custom-bouncer call
dir=$(dirname "$0")
tmp="$dir/.record.$$"
{
  printf '%s\\0%s\\0' "$(date +%s%3N)" "$#"
  if [ "$#" -gt 0 ]; then printf '%s\\0' "$@"; fi
} > "$tmp"
cat "$tmp" >> "$dir/events.bin"
rm -f "$tmp"
exit 0
`;

/** Parses the recorder's NUL-separated records; a trailing incomplete record is left for later. */
export function parseRecordedCalls(buf: Buffer): { calls: { at: number; args: string[] }[]; consumed: number } {
  const calls: { at: number; args: string[] }[] = [];
  let pos = 0;
  let consumed = 0;
  const next = (): string | undefined => {
    const end = buf.indexOf(0, pos);
    if (end < 0) return undefined;
    const s = buf.toString('utf8', pos, end);
    pos = end + 1;
    return s;
  };
  for (;;) {
    const at = next();
    const argc = next();
    if (at === undefined || argc === undefined) break;
    const n = Number(argc);
    if (!Number.isInteger(n) || n < 0) throw new Error(`corrupt recorder file at byte ${consumed}`);
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = next();
      if (a === undefined) break;
      args.push(a);
    }
    if (args.length < n) break;
    calls.push({ at: Number(at), args });
    consumed = pos;
  }
  return { calls, consumed };
}

function toEvent(call: { at: number; args: string[] }): CustomBouncerEvent {
  const [action = '', value = '', seconds = 'NaN', scenario = '', json = ''] = call.args;
  let decision: Record<string, unknown>;
  try {
    decision = JSON.parse(json) as Record<string, unknown>;
  } catch {
    decision = { unparsed: json };
  }
  return { action: action as 'add' | 'del', value, seconds: Number(seconds), scenario, decision, args: call.args, at: call.at };
}

/** Starts `crowdsec-custom-bouncer -c <generated config>`; resolves once its polling loop runs. */
export async function startCustomBouncer(opts: CustomBouncerOptions): Promise<CustomBouncerHandle> {
  const bin = findExecutable(CUSTOM_BIN);
  if (!bin) throw new Error(`${CUSTOM_BIN} not installed (run scripts/install-crowdsec-bouncers.sh as root)`);
  fs.mkdirSync(opts.workDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(opts.workDir, 'custom-bouncer-'));
  const files = {
    dir,
    config: path.join(dir, 'crowdsec-custom-bouncer.yaml'),
    script: path.join(dir, 'record-call.sh'),
    events: path.join(dir, 'events.bin'),
  };
  fs.writeFileSync(files.script, RECORDER_SCRIPT, { mode: 0o755 });
  fs.writeFileSync(files.events, '');
  // Keys as in the shipped /etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml (0.0.15).
  writeYaml(files.config, {
    bin_path: files.script,
    feed_via_stdin: false,
    total_retries: 0,
    scenarios_containing: opts.scenariosContaining ?? [],
    scenarios_not_containing: opts.scenariosNotContaining ?? [],
    origins: opts.origins ?? [],
    ...(opts.scopes ? { scopes: opts.scopes } : {}),
    piddir: dir, // only used when daemonize: true
    cache_retention_duration: opts.cacheRetentionDuration ?? '10s',
    ...sharedBouncerYaml(dir, opts),
    // the shipped default (enabled on 127.0.0.1:60602) would clash between parallel bouncers
    prometheus: { enabled: false, listen_addr: '127.0.0.1', listen_port: '60602' },
  });

  const proc = spawnLogged(bin, ['-c', files.config], dir);
  const unhook = onProcessExit(() => {
    if (proc.exitCode() === undefined) proc.child.kill('SIGKILL');
  });

  let parsed: CustomBouncerEvent[] = [];
  let offset = 0;
  let pending: Buffer = Buffer.alloc(0);
  const events = (): CustomBouncerEvent[] => {
    let chunk: Buffer;
    try {
      const fd = fs.openSync(files.events, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        chunk = Buffer.alloc(Math.max(0, size - offset));
        if (chunk.length) fs.readSync(fd, chunk, 0, chunk.length, offset);
        offset += chunk.length;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return parsed.slice();
    }
    if (chunk.length) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const { calls, consumed } = parseRecordedCalls(pending);
      pending = pending.subarray(consumed);
      parsed = parsed.concat(calls.map(toEvent));
    }
    return parsed.slice();
  };

  try {
    await waitForLog(proc, 'Processing new and deleted decisions', opts.startTimeoutMs ?? 10_000, CUSTOM_BIN);
  } catch (err) {
    await terminate(proc);
    unhook();
    throw err;
  }

  return {
    pid: proc.pid,
    files,
    events,
    logs: proc.logs,
    exitCode: proc.exitCode,
    async waitFor(pred, timeoutMs) {
      const context = () => `events: ${JSON.stringify(events())}\nlogs:\n${proc.logs()}`;
      return until(
        `a matching ${CUSTOM_BIN} event`,
        () => {
          const hit = events().find(pred);
          if (hit) return hit;
          const code = proc.exitCode();
          if (code !== undefined) throw new Error(`${CUSTOM_BIN} exited (code ${code}) before the awaited event.\n${context()}`);
          return undefined;
        },
        context,
        timeoutMs,
        25,
      );
    },
    async stop() {
      await terminate(proc);
      unhook();
    },
  };
}
