import { refusedOf } from '../core/health/attribution.ts';
import { healthRules as rulesOf } from '../config/config.ts';
import { describeProbe, type LastProbe } from '../core/bouncers/probe.ts';
import { lastProbes } from '../store/bouncer-probes.ts';
import { readWatchPollEvery } from '../store/watch-poll-every.ts';
import type { Command } from 'commander';
import { Option } from 'commander';
import { VigilError } from '../lib/errors.ts';
import { validateBouncerName } from '../core/bouncers/bouncer-name.ts';
import { generateApiKey, hashApiKey, validateApiKey, DEFAULT_KEY_BYTES } from '../core/bouncers/api-key.ts';
import { formatBouncerAdded, formatBouncerList } from './format/bouncers.ts';
import { plainTable } from './format/table.ts';
import { csvRow } from './format/csv.ts';
import { bouncerStatus } from '../core/health/evaluate.ts';
import { toHealthInput } from '../health/engine.ts';
import { downtimeLookback, vigilDowntime } from '../health/lapi-alive.ts';
import type { HealthRules } from '../core/health/types.ts';
import { formatGoDuration, formatRfc3339 } from '../lib/duration.ts';
import type { Bouncer, RefusedRequest } from '../core/model/records.ts';
import { resolveKind } from '../core/health/bouncer-kind.ts';
import { storeRole } from '../store/store-role.ts';
import { logLine } from './io.ts';
import { addInspectCommand, confirmOrAbort, outputOption, pruneDuration, usageError, type CommandContext, type OutputFormat } from './context.ts';
import { createBouncer, deleteBouncers, getBouncer, listBouncers, setBouncerKind, setBouncerRevoked, staleBouncers } from '../store/bouncers.ts';
import { refusedRequests } from '../store/refused-requests.ts';
import { latestUsageMetrics, usageMetricsReceivedAt } from '../store/usage-metrics.ts';

export { validateBouncerName };

export function registerBouncerCommands(program: Command, ctx: CommandContext): void {
  const bouncers = program.command('bouncers').alias('bouncer').description('manage bouncers (remediation components) and their API keys');
  registerBouncerAdd(bouncers, ctx);
  registerBouncerList(bouncers, ctx);
  registerBouncerDelete(bouncers, ctx);
  registerBouncerInspect(bouncers, ctx);
  registerBouncerPrune(bouncers, ctx);
  registerBouncerRevocation(bouncers, ctx);
  registerBouncerSet(bouncers, ctx);
}

function registerBouncerAdd(bouncers: Command, ctx: CommandContext): void {
  bouncers
    .command('add <name>')
    .description('register a bouncer and print its API key (shown once)')
    .option('-k, --key <key>', 'use this API key instead of a random one')
    .option('-l, --length <bytes>', `random key length in bytes (default ${DEFAULT_KEY_BYTES} → ${DEFAULT_KEY_BYTES * 2} hex characters)`)
    .addOption(outputOption())
    .action(async (name: string, o: { key?: string; length?: string; output: OutputFormat }) => {
      validateBouncerName(name);
      if (o.key !== undefined && o.length !== undefined) throw usageError('--key and --length: give one or the other');
      let key: string;
      if (o.key !== undefined) key = validateApiKey(o.key, '--key');
      else {
        const n = o.length === undefined ? DEFAULT_KEY_BYTES : Number(o.length);
        if (!/^\d+$/.test(o.length ?? '16')) throw usageError(`--length "${o.length}": use a whole number of bytes, e.g. 16`);
        key = generateApiKey(n);
      }
      await ctx.withStore(
        async (store) => {
          // A bouncer added to watch's mirror would be deleted at its next read of CrowdSec.
          if ((await storeRole(store)) === 'watch') {
            throw new VigilError(
              'E_STORE_ROLE',
              `store ${store.description} is vigil watch's (a mirror of CrowdSec's bouncers): add the bouncer in CrowdSec (cscli bouncers add ${name}), or pass --db with vigil serve's store`,
            );
          }
          await createBouncer(store, { name, apiKeyHash: hashApiKey(key), now: ctx.io.clock.now() });
        },
        { create: true },
      );
      // The only place a key is ever printed.
      ctx.io.stdout(formatBouncerAdded(name, key, o.output));
    });
}

function registerBouncerList(bouncers: Command, ctx: CommandContext): void {
  bouncers
    .command('list')
    .alias('ls')
    .description('list bouncers with their last pull')
    .addOption(outputOption())
    .action(async (o: { output: OutputFormat }) => {
      const now = ctx.io.clock.now();
      const { list, reported, downtime, observedEveryMs } = await ctx.withStore(async (store) => ({
        list: await listBouncers(store),
        reported: await usageMetricsReceivedAt(store),
        downtime: await vigilDowntime(store, downtimeLookback(now, healthRules(ctx)), now),
        observedEveryMs: await readWatchPollEvery(store),
      }));
      const rules = { ...healthRules(ctx), observedEveryMs };
      const health = (b: Bouncer) => bouncerStatus(toHealthInput(b, reported.get(b.id) ?? null), now, rules, downtime);
      ctx.io.stdout(
        formatBouncerList(list, o.output, {
          // Raw stays byte-for-byte cscli's CSV (scripts parse it); human and JSON gain the health.
          extraColumns: o.output === 'raw' ? [] : [{ header: 'Health', rawHeader: 'health', value: (b) => health(b).replace('_', ' ') }],
          extraJson: (b) => ({
            // cscli 1.6.4+ (docs/reference/crowdsec-1.6-1.7.md §5).
            auto_created: b.autoCreated,
            health: health(b),
            pull_cadence_ms: b.pullCadenceMs,
            last_request: b.lastRequestAt === null ? null : new Date(b.lastRequestAt).toISOString(),
          }),
        }),
      );
    });
}

function registerBouncerDelete(bouncers: Command, ctx: CommandContext): void {
  bouncers
    .command('delete <names...>')
    .alias('remove')
    .description("delete bouncers (their keys stop working), with the NAME@IP rows a shared key's other addresses got")
    .action(async (names: string[]) => {
      const lines = await ctx.withStore(async (store) => {
        const all = await listBouncers(store);
        const byName = new Map(all.map((b) => [b.name, b]));
        const plan = planBouncerDelete(names, byName, all);
        if (plan.doomed.length > 0) await deleteBouncers(store, plan.doomed);
        return plan.lines;
      });
      for (const [level, line] of lines) ctx.io.stderr(logLine(level, line));
    });
}

function registerBouncerInspect(bouncers: Command, ctx: CommandContext): void {
  addInspectCommand(bouncers, 'show one bouncer in detail', async (name, output) => {
    const now = ctx.io.clock.now();
    const { b, fleet, refused, usage, downtime, probe, observedEveryMs } = await ctx.withStore(async (store) => {
      const found = await getBouncer(store, name);
      return {
        b: found,
        fleet: await listBouncers(store),
        refused: await refusedRequests(store, { limit: 2000 }),
        usage: found ? await latestUsageMetrics(store, found.id) : undefined,
        downtime: await vigilDowntime(store, downtimeLookback(now, healthRules(ctx)), now),
        probe: found ? (await lastProbes(store, [found.id])).get(found.id) : undefined,
        observedEveryMs: await readWatchPollEvery(store),
      };
    });
    if (!b) throw new VigilError('E_NO_BOUNCER', `bouncer '${name}' doesn't exist (see: vigil bouncers list)`);
    // Refused or misrouted requests that are this bouncer's by the health engine's rules (attribution.ts).
    const mine = refusedOf(b, fleet, refused)
      .slice(0, 10)
      .map((m) => ({ ...m.request, whose: m.label }));
    const status = bouncerStatus(toHealthInput(b, usage?.receivedAt ?? null), now, { ...healthRules(ctx), observedEveryMs }, downtime);
    ctx.io.stdout(formatInspect(b, status, mine, output, usage, probe));
  });
}

function registerBouncerPrune(bouncers: Command, ctx: CommandContext): void {
  bouncers
    .command('prune')
    .description('delete bouncers that have not pulled for a while (never-pulled ones count from registration)')
    .option('-d, --duration <duration>', 'idle for at least this long', '60m')
    .option('--force', 'do not ask for confirmation')
    .action(async (o: { duration: string; force?: boolean }) => {
      const ms = pruneDuration(o.duration, o.force === true, 'active bouncers');
      await ctx.withStore(async (store) => {
        const stale = await staleBouncers(store, ctx.io.clock.now() - ms);
        if (stale.length === 0) {
          ctx.io.stdout(`No bouncers to prune.\n`);
          return;
        }
        ctx.io.stdout(formatBouncerList(stale, 'human'));
        if (!o.force) {
          const question = `Prune ${stale.length} bouncer(s)?`;
          await confirmOrAbort(ctx.io, question, `${question} needs a confirmation: run again with --force`);
        }
        await deleteBouncers(
          store,
          stale.map((b) => b.name),
        );
        ctx.io.stderr(logLine('info', `${stale.length} bouncer(s) pruned successfully`));
      });
    });
}

/** `revoke` refuses a bouncer's key and `unrevoke` accepts it again: one change, either way. */
const REVOCATION_COMMANDS = [
  { command: 'revoke', revoked: true, description: "refuse this bouncer's key without deleting its record (undo with unrevoke)", done: 'revoked' },
  { command: 'unrevoke', revoked: false, description: "accept a revoked bouncer's key again", done: 'accepted again' },
] as const;

function registerBouncerRevocation(bouncers: Command, ctx: CommandContext): void {
  for (const r of REVOCATION_COMMANDS) {
    bouncers
      .command(`${r.command} <name>`)
      .description(r.description)
      .action(async (name: string) => {
        await ctx.withStore((store) => setBouncerRevoked(store, name, r.revoked, ctx.io.clock.now()));
        ctx.io.stderr(logLine('info', `bouncer '${name}' ${r.done}`));
      });
  }
}

function registerBouncerSet(bouncers: Command, ctx: CommandContext): void {
  bouncers
    .command('set <name>')
    .description('set what a bouncer is, when its type does not say (firewall or application-level remediation)')
    .addOption(
      new Option('--kind <kind>', 'firewall, remediation, or auto (decided from its type)').choices(['firewall', 'remediation', 'auto']).makeOptionMandatory(),
    )
    .action(async (name: string, o: { kind: 'firewall' | 'remediation' | 'auto' }) => {
      await ctx.withStore((store) => setBouncerKind(store, name, o.kind === 'auto' ? null : o.kind, ctx.io.clock.now()));
      ctx.io.stderr(logLine('info', `bouncer '${name}' kind set to ${o.kind}`));
    });
}

/**
 * What `cscli bouncers delete` (1.6.4+) does with shared keys (docs/reference/crowdsec-1.6-1.7.md §1): a
 * parent takes its auto-created `NAME@…` rows with it; an auto-created API-key row is refused (WARN,
 * exit 0) in favour of its parent, or left with an error when it has none (prune removes it); TLS
 * rows have no parent and are always deleted. An unknown name fails the whole command first.
 */
export function planBouncerDelete(
  names: string[],
  byName: ReadonlyMap<string, Bouncer>,
  all: readonly Bouncer[],
): { doomed: string[]; lines: Array<['info' | 'warning' | 'error', string]> } {
  const doomed = new Set<string>();
  const lines: Array<['info' | 'warning' | 'error', string]> = [];
  for (const name of names) {
    if (!byName.has(name)) throw new VigilError('E_NO_BOUNCER', `unable to delete bouncer '${name}': bouncer doesn't exist`);
  }
  for (const name of names) {
    const b = byName.get(name)!;
    if (b.autoCreated && b.authType === 'api-key') {
      const parent = name.split('@')[0]!;
      if (byName.has(parent)) lines.push(['warning', `bouncer '${name}' is auto-created and cannot be deleted, delete parent bouncer ${parent} instead`]);
      else
        lines.push([
          'error',
          `bouncer '${name}' is auto-created, but its parent bouncer ${parent} doesn't exist: not deleted (vigil bouncers prune removes it once idle)`,
        ]);
      continue;
    }
    const family = [b, ...all.filter((c) => c.autoCreated && c.authType === 'api-key' && c.name.startsWith(`${name}@`))];
    for (const m of family) {
      if (doomed.has(m.name)) continue;
      doomed.add(m.name);
      lines.push(['info', `bouncer '${m.name}' deleted successfully`]);
    }
  }
  return { doomed: [...doomed], lines };
}

function healthRules(ctx: CommandContext): HealthRules {
  const h = ctx.config().health;
  return rulesOf(h);
}

function formatInspect(
  b: Bouncer,
  status: string,
  refused: Array<RefusedRequest & { whose: string }>,
  output: OutputFormat,
  usage?: { receivedAt: number; report: unknown },
  probe?: LastProbe,
): string {
  const time = (ms: number | null) => (ms === null ? '' : formatRfc3339(ms));
  const fields: Array<[string, string]> = [
    ['Name', b.name],
    ['Created At', time(b.createdAt)],
    ['Last Update', time(b.updatedAt)],
    ['Revoked?', String(b.revoked)],
    ['IP Address', b.ipAddress],
    ['Type', b.type],
    ['Version', b.version],
    ['Last Pull', time(b.lastPullAt)],
    ['Last Request', time(b.lastRequestAt)],
    ['Auth type', b.authType],
    ['Auto Created', String(b.autoCreated)],
    ['Kind', `${resolveKind(b.type, b.kindOverride)}${b.kindOverride ? ' (set by operator)' : ' (from its type)'}`],
    ['Health', status.replace('_', ' ')],
    ['Pull cadence', b.pullCadenceMs === null ? 'not steady (live mode) or not known yet' : `every ${formatGoDuration(b.pullCadenceMs)}`],
    ['Usage Metrics', usage ? `last report ${time(usage.receivedAt)}${describeUsageReport(usage.report)}` : 'never reported'],
    // A check of its key by doctor or curl: evidence, never a sign of life (issue 24).
    ['Last Probe', probe ? describeProbe(probe) : 'none'],
  ];
  if (output === 'json') {
    const { apiKeyHash, ...rest } = b;
    const usageMetrics = usage ? { receivedAt: formatRfc3339(usage.receivedAt), report: usage.report } : null;
    const lastProbe = probe ? { ...probe, at: formatRfc3339(probe.at), from: describeProbe(probe) } : null;
    return JSON.stringify({ ...rest, api_key: apiKeyHash, health: status, usageMetrics, lastProbe, recentRefused: refused }, null, 2) + '\n';
  }
  if (output === 'raw') return csvRow(['field', 'value']) + fields.map((f) => csvRow(f)).join('');
  let out = plainTable(['Field', 'Value'], fields);
  if (refused.length > 0) {
    out += "\nRecent refused or misrouted requests that are this bouncer's (Whose: by its key, its address and User-Agent, or its address alone):\n";
    out += plainTable(
      ['Time', 'Reason', 'From', 'Request', 'User-Agent', 'Whose'],
      refused.map((r) => [formatRfc3339(r.at), r.reason, r.peerIp, `${r.method} ${r.path}`, r.userAgent, r.whose]),
    );
  }
  return out;
}

/** ` (os debian 12; 3 metric items)` from a stored report; the report was validated on receipt. */
function describeUsageReport(report: unknown): string {
  const r = report as { os?: { name: string; version: string }; metrics?: Array<{ items?: unknown[] }> };
  const parts: string[] = [];
  if (r.os) parts.push(`os ${r.os.name} ${r.os.version}`);
  const items = (r.metrics ?? []).reduce((n, m) => n + (m.items?.length ?? 0), 0);
  parts.push(`${items} metric item${items === 1 ? '' : 's'}`);
  return ` (${parts.join('; ')})`;
}
