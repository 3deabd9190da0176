import { Option, type Command } from 'commander';
import pc from 'picocolors';
import { formatGoDuration, parseDuration } from '../lib/duration.ts';
import { parseIp } from '../lib/ip.ts';
import { probeHttp } from '../doctor/network-probe.ts';
import { abortableSleep, runVerify, type DecisionBackend, type RemediationType, type VerifyResult } from '../doctor/verify.ts';
import { cscliBackend, storeBackend } from '../doctor/verify-backends.ts';
import { checksFailed } from './doctor.ts';
import { CANARY_MAX_DECISION_MS } from '../config/canaries.ts';
import { usageError, type CommandContext } from './context.ts';

interface VerifyFlags {
  url: string;
  ip: string;
  type: RemediationType;
  bouncer?: string;
  timeout: string;
  updatePeriod: string;
  poll: string;
  settle: string;
  requestTimeout: string;
  duration: string;
  cscli?: string;
  output: 'human' | 'json';
}

function duration(text: string, flag: string): number {
  const ms = parseDuration(text, flag);
  if (ms <= 0) throw usageError(`${flag} "${text}": must be positive, e.g. 10s`);
  return ms;
}

export function registerVerifyCommand(program: Command, ctx: CommandContext): void {
  program
    .command('verify')
    .description(
      'test remediation end to end: add a short-lived test decision, wait for the bouncer to pull it, expect the URL to block the address, remove the decision',
    )
    .requiredOption('--url <url>', 'a URL the bouncer protects, e.g. http://127.0.0.1/')
    .option('--ip <ip>', 'test address, sent as X-Forwarded-For (a documentation address by default)', '192.0.2.1')
    .addOption(new Option('--type <type>', 'decision type').choices(['ban', 'captcha']).default('ban'))
    .option('--bouncer <name>', 'wait until this bouncer has pulled the decision (as named in vigil bouncers list)')
    .option('--timeout <duration>', "give up waiting for the bouncer's pull after this long", '60s')
    .option('--update-period <duration>', "without --bouncer: wait this long, the bouncer's update period", '10s')
    .option('--poll <duration>', 'how often the last pull is read and the URL retried', '500ms')
    .option('--settle <duration>', 'after the pull, keep retrying the URL this long while the bouncer applies it', '2s')
    .option('--request-timeout <duration>', 'time limit of each request to the URL', '5s')
    .option('--duration <duration>', 'lifetime of the test decision, at most 10m (it expires by itself even if removal never runs)', '5m')
    .option(
      '--cscli <command>',
      'write the decision through a real CrowdSec\'s cscli instead of Vigil\'s store, e.g. "cscli" or "cscli -c /etc/crowdsec/config.yaml"',
    )
    .addOption(new Option('-o, --output <format>', 'output format: human or json').choices(['human', 'json']).default('human'))
    .addHelpText(
      'after',
      `
The test decision goes into the store of the configured db (--db / vigil.yaml, as vigil decisions add)
or, with --cscli, into CrowdSec. It is removed on every path, Ctrl-C included.
Exit code 0 when the URL blocks the address, 1 otherwise.`,
    )
    .action(async (o: VerifyFlags) => {
      try {
        const u = new URL(o.url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      } catch {
        throw usageError(`--url "${o.url}": use an http:// or https:// URL the bouncer protects`);
      }
      try {
        parseIp(o.ip);
      } catch {
        throw usageError(`--ip "${o.ip}": not an IPv4 or IPv6 address; use e.g. 192.0.2.1`);
      }
      const opts = {
        url: o.url,
        ip: o.ip,
        type: o.type,
        bouncer: o.bouncer,
        timeoutMs: duration(o.timeout, '--timeout'),
        updatePeriodMs: duration(o.updatePeriod, '--update-period'),
        pollMs: duration(o.poll, '--poll'),
        settleMs: parseDuration(o.settle, '--settle'),
        requestTimeoutMs: duration(o.requestTimeout, '--request-timeout'),
        decisionDurationMs: duration(o.duration, '--duration'),
      };
      // As a canary's (config/canaries.ts): if this process is killed during the wait, bouncers enforce the decision until it expires.
      if (opts.decisionDurationMs > CANARY_MAX_DECISION_MS) {
        throw usageError(
          `--duration ${o.duration}: at most 10m, because bouncers enforce the test decision until it expires if vigil verify is killed during the wait; use --duration 10m or less (and --timeout short enough to fit)`,
        );
      }
      if (opts.decisionDurationMs < opts.timeoutMs + opts.settleMs + 10_000) {
        throw usageError(
          `--duration ${o.duration}: the test decision must outlive the wait (--timeout ${o.timeout} + --settle ${o.settle}); use at least ${formatGoDuration(opts.timeoutMs + opts.settleMs + 10_000)}`,
        );
      }
      const abort = new AbortController();
      void ctx.io.stopSignal?.then(() => abort.abort());
      const color = ctx.io.isTTY && o.output === 'human';
      const run = (backend: DecisionBackend) =>
        runVerify(opts, {
          backend,
          clock: ctx.io.clock,
          sleep: abortableSleep,
          signal: abort.signal,
          request: (url, headers, timeoutMs) => probeHttp(url, { headers, connectMs: timeoutMs, answerMs: timeoutMs }),
          progress: o.output === 'human' ? (line) => ctx.io.stderr(`${line}\n`) : undefined,
        });
      const result = o.cscli ? await run(cscliBackend(o.cscli.split(/\s+/).filter(Boolean))) : await ctx.withStore((store) => run(storeBackend(store)));
      ctx.io.stdout(o.output === 'json' ? JSON.stringify(result, null, 2) + '\n' : formatVerifyHuman(result, color));
      if (result.verdict !== 'pass') throw checksFailed();
    });
}

export function formatVerifyHuman(r: VerifyResult, color: boolean): string {
  const c = pc.createColors(color);
  const verdict = r.verdict === 'pass' ? c.green('PASS') : r.verdict === 'aborted' ? c.yellow('ABORTED') : c.red('FAIL');
  const lines = [`${verdict} ${r.summary}`];
  if (r.fix) lines.push(`     fix: ${r.fix}`);
  const timing = r.steps.map((s) => `${s.step} ${formatGoDuration(Math.round(s.ms))}`).join(', ');
  lines.push(
    c.dim(
      `     ${timing}; total ${formatGoDuration(Math.round(r.totalMs))}${r.decisionId ? `; test decision ${r.decisionId} ${r.decisionRemoved ? 'removed' : 'NOT removed'}` : ''}`,
    ),
  );
  return lines.join('\n') + '\n';
}
