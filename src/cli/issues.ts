import type { Command } from 'commander';
import { Option } from 'commander';
import pc from 'picocolors';
import { VigilError } from '../lib/errors.ts';
import { formatGoDuration, formatRfc3339 } from '../lib/duration.ts';
import { formatListen } from '../lib/listen-address.ts';
import { flappingKeys } from '../health/engine.ts';
import type { Deployment } from '../core/health/runbooks/index.ts';
import { formatRunbookText } from '../presentation/runbook-format.ts';
import { readRunbookSettings } from '../store/runbook-settings.ts';
import { causeText } from '../core/health/causes.ts';
import { issueRunbook, issueStatus, topCause } from '../core/health/issue-view.ts';
import { ISSUE_CATALOGUE } from '../core/health/types.ts';
import type { HealthIssue } from '../core/model/health-issue.ts';
import { boxTable } from './format/table.ts';
import { csvRow } from './format/csv.ts';
import { outputOption, type CommandContext, type OutputFormat } from './context.ts';
import { registerSilenceCommands } from './silences.ts';
import { getBouncer } from '../store/bouncers.ts';
import { healthIssue, healthIssues } from '../store/health-issues.ts';

const status = issueStatus;

export function registerIssueCommands(program: Command, ctx: CommandContext): void {
  const issues = program.command('issues').alias('issue').description('health issues: bouncers that stopped pulling, and why');

  issues
    .command('list')
    .alias('ls')
    .description('list open issues (with --all, resolved ones too)')
    .option('-a, --all', 'include resolved issues (the history)')
    .addOption(outputOption())
    .action(async (o: { all?: boolean; output: OutputFormat }) => {
      const now = ctx.io.clock.now();
      const [list, flapping] = await ctx.withStore(
        async (store) => [await healthIssues(store, { includeResolved: o.all }), await flappingKeys(store, now)] as const,
      );
      ctx.io.stdout(formatIssueList(list, flapping, o.output, now));
    });

  issues
    .command('show <id>')
    .description('show one issue: likely cause, evidence and the runbook for that bouncer')
    .addOption(
      new Option('--deployment <where>', 'where the bouncer runs, for the runbook commands (default host, or what vigil watch recorded)').choices([
        'host',
        'docker',
        'kubernetes',
      ]),
    )
    .addOption(outputOption())
    .action(async (id: string, o: { deployment?: Deployment; output: OutputFormat }) => {
      if (!/^\d+$/.test(id)) throw new VigilError('E_USAGE', `issue id "${id}": use the number shown by 'vigil issues list'`);
      const now = ctx.io.clock.now();
      const { issue, bouncer, flapping, settings } = await ctx.withStore(async (store) => {
        const issue = await healthIssue(store, Number(id));
        const bouncer = issue?.bouncerName ? await getBouncer(store, issue.bouncerName) : undefined;
        return { issue, bouncer, flapping: await flappingKeys(store, now), settings: await readRunbookSettings(store) };
      });
      if (!issue) throw new VigilError('E_NO_ISSUE', `issue ${id} doesn't exist (see: vigil issues list --all)`);
      // A store kept by `vigil watch` says where CrowdSec's Local API is and that its CLI is cscli.
      const lapiUrl = settings?.lapiUrl ?? `http://${formatListen(ctx.config().listen)}/`;
      const runbook = issueRunbook(issue, bouncer, lapiUrl, o.deployment ?? settings?.deployment ?? 'host', settings);
      if (o.output === 'json') {
        ctx.io.stdout(JSON.stringify({ ...issue, status: status(issue, flapping), runbook }, null, 2) + '\n');
        return;
      }
      const color = ctx.io.isTTY && o.output === 'human';
      const c = color ? pc : { bold: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, green: (s: string) => s, dim: (s: string) => s };
      const title = ISSUE_CATALOGUE[issue.kind]?.title ?? issue.kind;
      const lines: string[] = [];
      const st = status(issue, flapping);
      lines.push(c.bold(`Issue ${issue.id}: ${title}`) + ` [${issue.criticality}] ${st === 'resolved' ? c.green(st) : c.red(st)}`);
      lines.push(issue.summary);
      lines.push('');
      lines.push(`Opened:    ${formatRfc3339(issue.openedAt)}`);
      lines.push(`Since:     ${formatRfc3339(issue.since)} (${formatGoDuration(Math.round((now - issue.since) / 1000) * 1000)} ago)`);
      lines.push(`Last seen: ${formatRfc3339(issue.lastSeenAt)}`);
      if (issue.resolvedAt !== null) lines.push(`Resolved:  ${formatRfc3339(issue.resolvedAt)}`);
      const causes = issue.evidence.causes;
      if (causes.length > 0) {
        lines.push('', c.bold('Likely cause, from what the Local API saw:'));
        causes.forEach((cause, n) => {
          lines.push(`  ${n + 1}. ${causeText(cause.cause)} (${cause.confidence} confidence)`);
          for (const e of cause.evidence) lines.push(`     - ${e}`);
        });
      }
      if (issue.evidence.notes.length > 0) {
        lines.push('', c.bold('Noted:'));
        for (const note of issue.evidence.notes) lines.push(`  - ${note}`);
      }
      if (runbook) lines.push('', formatRunbookText(runbook, { color }));
      ctx.io.stdout(lines.join('\n') + '\n');
    });

  registerSilenceCommands(issues, ctx);
}

export function formatIssueList(list: HealthIssue[], flapping: Set<string>, output: OutputFormat, now: number): string {
  if (output === 'json') {
    return (
      JSON.stringify(
        list.map((i) => ({ ...i, status: status(i, flapping) })),
        null,
        2,
      ) + '\n'
    );
  }
  const rows = list.map((i) => [
    String(i.id),
    i.kind,
    i.criticality,
    i.bouncerName ?? (i.subject.startsWith('machine:') ? i.subject : '(fleet)'),
    status(i, flapping),
    formatRfc3339(i.openedAt),
    formatGoDuration(Math.round(((i.resolvedAt ?? now) - i.since) / 1000) * 1000),
    topCause(i) ? causeText(topCause(i)!.cause) : '',
  ]);
  const headers = ['ID', 'Kind', 'Criticality', 'Bouncer', 'Status', 'Opened', 'Silent for', 'Likely cause'];
  if (output === 'raw') {
    return [csvRow(['id', 'kind', 'criticality', 'bouncer', 'status', 'opened_at', 'silent_for', 'likely_cause']), ...rows.map(csvRow)].join('');
  }
  if (rows.length === 0) return 'No open issues.\n';
  return boxTable(headers, rows);
}
