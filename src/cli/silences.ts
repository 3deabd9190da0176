import type { Command } from 'commander';
import { VigilError } from '../lib/errors.ts';
import { formatGoDuration, formatRfc3339 } from '../lib/duration.ts';
import { NotifyStore } from '../store/notify-store.ts';
import { ackJson, acknowledgeIssue, createSilence, nextHold, silenceJson, silenceTarget } from '../notify/silence-commands.ts';
import { silenceActive, type Silence } from '../core/notify/silences.ts';
import { boxTable } from './format/table.ts';
import { csvRow } from './format/csv.ts';
import { outputOption, type CommandContext, type OutputFormat } from './context.ts';

const numericId = (text: string, what: string, hint: string): number => {
  if (!/^\d{1,15}$/.test(text)) throw new VigilError('E_USAGE', `${what} id "${text}": use the number shown by '${hint}'`);
  return Number(text);
};

/** Who did it, as silences and acknowledgements record it. */
function cliUser(env: NodeJS.ProcessEnv): string {
  const user = env.SUDO_USER || env.USER || env.LOGNAME;
  return user ? `cli:${user}` : 'cli';
}

const target = silenceTarget;

function silenceStatus(s: Silence, now: number): string {
  if (silenceActive(s, now)) return 'active';
  if (s.removedAt === null && s.endsAt > now) return `from ${nextHold(s, now) ?? '-'}`;
  return s.removedAt !== null ? 'removed' : 'ended';
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface SilenceOptions {
  bouncer?: string;
  kind?: string;
  machine?: string;
  label?: string[];
  start?: string;
  in?: string;
  every?: string;
  at?: string;
  lasting?: string;
  tz?: string;
  for?: string;
  reason?: string;
  output: OutputFormat;
}

/** `--every sun,sat --at 02:00 --lasting 30m --tz Europe/Paris` (`--every day`: every day). */
function everyOption(o: SilenceOptions) {
  if (o.every === undefined) {
    if (o.at !== undefined || o.lasting !== undefined || o.tz !== undefined)
      throw new VigilError('E_USAGE', '--at, --lasting and --tz go with --every (e.g. --every day --at 02:00 --lasting 30m)');
    return undefined;
  }
  if (o.at === undefined || o.lasting === undefined)
    throw new VigilError('E_USAGE', '--every needs --at HH:MM and --lasting DURATION, e.g. --every day --at 02:00 --lasting 30m');
  const days = o.every.trim().toLowerCase() === 'day' ? [] : o.every.split(',');
  return { at: o.at, lasting: o.lasting, days, timeZone: o.tz ?? 'UTC' };
}

/** `vigil issues silence|silences|unsilence|ack`: hold back notifications while someone works on it. */
export function registerSilenceCommands(issues: Command, ctx: CommandContext): void {
  registerSilenceSilence(issues, ctx);
  registerSilenceSilences(issues, ctx);
  registerSilenceUnsilence(issues, ctx);
  registerSilenceAck(issues, ctx);
}

function registerSilenceSilence(issues: Command, ctx: CommandContext): void {
  issues
    .command('silence [id]')
    .description(
      'send no notification for an issue, or for every issue matching --bouncer/--kind/--machine/--label (all that are given), for a while, from now or later, optionally only inside a recurring window; a resolve is still sent if its open was',
    )
    .option('-b, --bouncer <name>', "a bouncer's issues, including ones that open later; a glob matches several ('edge-*', 'fw-?')")
    .option('-k, --kind <kind>', 'issues of this kind, e.g. rc_integration_offline')
    .option('-m, --machine <name>', "a machine's (agent's) issues; a glob matches several")
    .option(
      '-l, --label <name=value>',
      'issues with this label (kind, criticality, bouncer, machine, bouncer_type, bouncer_kind; value may be a glob); repeatable',
      collect,
    )
    .option('--start <time>', 'start later, at this RFC 3339 time, e.g. 2026-12-08T02:00:00Z')
    .option('--in <duration>', 'start later, this long from now, e.g. 2h')
    .option('--every <days>', 'hold only inside a recurring window: day (every day) or days such as sun or sat,sun')
    .option('--at <HH:MM>', 'with --every: when the window opens, wall clock in --tz')
    .option('--lasting <duration>', 'with --every: how long each window lasts, e.g. 30m')
    .option('--tz <zone>', 'with --every: IANA time zone of --at, e.g. Europe/Paris (default UTC)')
    .option('--for <duration>', 'how long, from its start, e.g. 8h or 2d (required; with --every: how long the recurring window is kept, at most 366d)')
    .option('-r, --reason <text>', 'why (required; shown in vigil issues silences)')
    .addOption(outputOption())
    .action(async (id: string | undefined, o: SilenceOptions) => {
      const now = ctx.io.clock.now();
      const s = await ctx.withStore((store) =>
        createSilence(store, {
          issueId: id === undefined ? undefined : numericId(id, 'issue', 'vigil issues list'),
          bouncer: o.bouncer,
          kind: o.kind,
          machine: o.machine,
          labels: o.label,
          start: o.start,
          in: o.in,
          every: everyOption(o),
          for: o.for,
          reason: o.reason,
          createdBy: cliUser(ctx.io.env),
          now,
          fields: { for: '--for', reason: '--reason', start: '--start', in: '--in', label: '--label', kind: '--kind', every: '--every' },
        }),
      );
      if (o.output === 'json') {
        ctx.io.stdout(JSON.stringify(silenceJson(s, now), null, 2) + '\n');
        return;
      }
      ctx.io.stdout(
        `Silenced ${target(s)}${s.startsAt > now ? ` from ${formatRfc3339(s.startsAt)}` : ''} until ${formatRfc3339(s.endsAt)} (${formatGoDuration(s.endsAt - s.startsAt)}): ${s.reason}\n` +
          `Silence ${s.id}; end it early with: vigil issues unsilence ${s.id}\n`,
      );
    });
}

function registerSilenceSilences(issues: Command, ctx: CommandContext): void {
  issues
    .command('silences')
    .description('list active silences (with --all, ended and removed ones too)')
    .option('-a, --all', 'include ended and removed silences')
    .addOption(outputOption())
    .action(async (o: { all?: boolean; output: OutputFormat }) => {
      const now = ctx.io.clock.now();
      const list = await ctx.withStore((store) => new NotifyStore(store).silences(now, { includeEnded: o.all }));
      if (o.output === 'json') {
        ctx.io.stdout(
          JSON.stringify(
            list.map((s) => silenceJson(s, now)),
            null,
            2,
          ) + '\n',
        );
        return;
      }
      const rows = list.map((s) => [String(s.id), target(s), silenceStatus(s, now), formatRfc3339(s.endsAt), s.createdBy, s.reason]);
      if (o.output === 'raw') {
        ctx.io.stdout([csvRow(['id', 'target', 'status', 'ends_at', 'created_by', 'reason']), ...rows.map(csvRow)].join(''));
        return;
      }
      ctx.io.stdout(rows.length === 0 ? 'No active silences.\n' : boxTable(['ID', 'Silenced', 'Status', 'Until', 'By', 'Reason'], rows));
    });
}

function registerSilenceUnsilence(issues: Command, ctx: CommandContext): void {
  issues
    .command('unsilence <silence-id>')
    .description('end a silence now (an issue still open and never announced is then announced)')
    .action(async (id: string) => {
      const silenceId = numericId(id, 'silence', 'vigil issues silences');
      const s = await ctx.withStore((store) => new NotifyStore(store).removeSilence(silenceId, ctx.io.clock.now()));
      ctx.io.stdout(`Silence ${s.id} on ${target(s)} removed.\n`);
    });
}

function registerSilenceAck(issues: Command, ctx: CommandContext): void {
  issues
    .command('ack <id>')
    .alias('acknowledge')
    .description('acknowledge an open issue: no more reminders for it (its resolve is still sent)')
    .option('-r, --reason <text>', 'a note, e.g. who is on it')
    .addOption(outputOption())
    .action(async (id: string, o: { reason?: string; output: OutputFormat }) => {
      const issueId = numericId(id, 'issue', 'vigil issues list');
      const { ack, created } = await ctx.withStore((store) =>
        acknowledgeIssue(store, { issueId, reason: o.reason, createdBy: cliUser(ctx.io.env), now: ctx.io.clock.now() }),
      );
      if (o.output === 'json') {
        ctx.io.stdout(JSON.stringify(ackJson(ack), null, 2) + '\n');
        return;
      }
      ctx.io.stdout(
        created
          ? `Issue ${issueId} acknowledged: no more reminders; its resolve will still be sent.\n`
          : `Issue ${issueId} was already acknowledged by ${ack.createdBy} at ${formatRfc3339(ack.createdAt)}.\n`,
      );
    });
}
