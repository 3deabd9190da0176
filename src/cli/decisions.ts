import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import cliProgress from 'cli-progress';
import { VigilError } from '../lib/errors.ts';
import { parseIp, parseRange } from '../lib/ip.ts';
import { buildDecision, DECISION_LIMITS, DEFAULT_DECISION, manualAlert, type DecisionRequest } from '../core/decisions/new-decisions.ts';
import { selectDecisions, type DecisionSelector } from '../core/decisions/select.ts';
import type { NewDecision } from '../store/decisions.ts';
import { formatDecisionList } from './format/decisions.ts';
import { logLine } from './io.ts';
import { outputOption, usageError, type CommandContext, type OutputFormat } from './context.ts';
import { withAlerts } from '../store/alerts.ts';
import { activeDecisions, addDecisions, softDeleteDecisions } from '../store/decisions.ts';
import { allowlistMatcher, allowlistMatches } from '../store/allowlists.ts';
import type { Store } from '../store/store.ts';

/** The machine name cscli would put in "manual 'ban' from '<machine>'". */
export const CLI_MACHINE_ID = 'vigil';
/** Import refuses files larger than this many rows rather than exhausting memory. */
const IMPORT_MAX_ROWS = 1_000_000;

interface FilterFlags {
  ip?: string;
  range?: string;
  type?: string;
  scope?: string;
  value?: string;
  scenario?: string;
  origin?: string;
  contained?: boolean;
}

function selectorFrom(o: FilterFlags): DecisionSelector {
  const s: DecisionSelector = {};
  if (o.ip !== undefined) {
    try {
      s.ip = parseIp(o.ip);
    } catch {
      throw usageError(`--ip "${o.ip}": not an IPv4 or IPv6 address; use e.g. 192.0.2.1 (a CIDR goes with --range)`);
    }
  }
  if (o.range !== undefined) {
    try {
      s.range = parseRange(o.range);
    } catch {
      throw usageError(`--range "${o.range}": not a CIDR range; use e.g. 198.51.100.0/24`);
    }
  }
  if (s.ip && s.range) throw usageError('--ip and --range: give one or the other');
  if (o.contained) s.contained = true;
  if (o.type !== undefined) s.type = o.type;
  if (o.scope !== undefined) s.scope = o.scope;
  if (o.value !== undefined) s.value = o.value;
  if (o.scenario !== undefined) s.scenario = o.scenario;
  if (o.origin !== undefined) s.origin = o.origin;
  return s;
}

const addFilterOptions = (cmd: Command): Command =>
  cmd
    .option('-i, --ip <ip>', 'decisions for this IP (and ranges containing it)')
    .option('-r, --range <cidr>', 'decisions for this range (and ranges containing it; see --contained)')
    .option('--contained', 'with --range: decisions inside the range instead')
    .option('-t, --type <type>', 'decision type, e.g. ban or captcha')
    .option('--scope <scope>', 'decision scope, e.g. Ip, Range, Country')
    .option('-v, --value <value>', 'decision value (exact)')
    .option('-s, --scenario <text>', 'scenario/reason containing this text')
    .option('--origin <origin>', 'decision origin, e.g. cscli, crowdsec, cscli-import');

export function registerDecisionCommands(program: Command, ctx: CommandContext): void {
  const decisions = program.command('decisions').alias('decision').description('manage decisions (ban, captcha, …)');
  registerDecisionAdd(decisions, ctx);

  addFilterOptions(
    decisions
      .command('list')
      .alias('ls')
      .description('list active decisions')
      .option('-l, --limit <n>', 'at most this many alerts (0: no limit)', '100')
      .addOption(outputOption()),
  ).action(async (o: FilterFlags & { limit: string; output: OutputFormat }) => {
    const limit = Number(o.limit);
    if (!Number.isInteger(limit) || limit < 0) throw usageError(`--limit "${o.limit}": use a whole number, 0 for no limit`);
    const selector = selectorFrom(o);
    const now = ctx.io.clock.now();
    const items = await ctx.withStore(async (store) => withAlerts(store, selectDecisions(await activeDecisions(store, now), selector)));
    ctx.io.stdout(formatDecisionList(limit > 0 ? items.slice(0, limit) : items, o.output, now));
  });

  addFilterOptions(
    decisions
      .command('delete')
      .alias('remove')
      .description('delete decisions (bouncers in stream mode receive the deletion)')
      .option('--id <id>', 'the decision with this id')
      .option('--all', 'every active decision'),
  ).action(async (o: FilterFlags & { id?: string; all?: boolean }) => {
    const selector = selectorFrom(o);
    if (o.id !== undefined) {
      if (!/^\d+$/.test(o.id)) throw usageError(`--id "${o.id}": use the numeric id shown by 'vigil decisions list'`);
      selector.id = Number(o.id);
    }
    if (Object.keys(selector).length === 0 && !o.all) {
      throw usageError('say what to delete: --ip, --range, --id, --scope/--value, --type, --scenario, --origin, or --all');
    }
    if (o.all && Object.keys(selector).length > 0) throw usageError('--all deletes everything: do not combine it with filters');
    const now = ctx.io.clock.now();
    const n = await ctx.withStore(async (store) => {
      const chosen = selectDecisions(await activeDecisions(store, now), selector);
      return softDeleteDecisions(
        store,
        chosen.map((d) => d.id),
        now,
      );
    });
    ctx.io.stderr(logLine('info', `${n} decision(s) deleted`));
  });

  registerDecisionImport(decisions, ctx);
}

function registerDecisionAdd(decisions: Command, ctx: CommandContext): void {
  decisions
    .command('add')
    .description('add a decision (default: ban for 4h)')
    .option('-i, --ip <ip>', 'the IP to act on (scope Ip)')
    .option('-r, --range <cidr>', 'the range to act on (scope Range)')
    .option('--scope <scope>', 'scope, with --value (default Ip)')
    .option('-v, --value <value>', 'value, with --scope')
    .option('-d, --duration <duration>', 'how long, e.g. 4h, 90m, 7d', DEFAULT_DECISION.duration)
    .option('-R, --reason <reason>', "reason (default: manual '<type>' from 'vigil')")
    .option('-t, --type <type>', 'ban, captcha or another remediation', DEFAULT_DECISION.type)
    .option('-B, --bypass-allowlist', 'add the decision even if an allowlist covers the IP or range')
    .action(async (o: DecisionAddFlags) => {
      const given = [o.ip !== undefined, o.range !== undefined, o.value !== undefined].filter(Boolean).length;
      if (given !== 1) throw usageError('give exactly one of --ip IP, --range CIDR or --scope SCOPE --value VALUE');
      // An empty or oversized flag is named as typed (`--ip ""`), not as the field it fills.
      const flag = o.ip !== undefined ? '--ip' : o.range !== undefined ? '--range' : '--value';
      const text = (o.ip ?? o.range ?? o.value)!;
      const example =
        flag === '--ip'
          ? 'an IPv4 or IPv6 address, e.g. 192.0.2.1'
          : flag === '--range'
            ? 'a CIDR range, e.g. 198.51.100.0/24'
            : 'the value to act on, e.g. --scope Country --value FR';
      if (text.trim() === '') throw usageError(`${flag} "${text}": empty; give ${example}`);
      if (text.length > DECISION_LIMITS.value) throw usageError(`${flag}: ${text.length} characters; at most ${DECISION_LIMITS.value}`);
      if (o.scope !== undefined && o.scope.trim() === '') throw usageError('--scope "": empty; use Ip, Range or another scope such as Country');
      if (o.reason !== undefined && o.reason.length > DECISION_LIMITS.reason)
        throw usageError(`--reason: ${o.reason.length} characters; at most ${DECISION_LIMITS.reason}`);
      let scope: string;
      let value: string;
      if (o.ip !== undefined) [scope, value] = ['Ip', o.ip];
      else if (o.range !== undefined) [scope, value] = ['Range', o.range];
      else [scope, value] = [o.scope ?? DEFAULT_DECISION.scope, o.value!];
      const now = ctx.io.clock.now();
      const reason = o.reason ?? `manual '${o.type}' from '${CLI_MACHINE_ID}'`;
      const d = buildDecision({ scope, value, type: o.type, duration: o.duration, reason, origin: 'cscli' }, now);
      await ctx.withStore(
        async (store) => {
          // cscli 1.6.6+ checks first, for Ip and Range only (docs/allowlists.md).
          if (!o.bypassAllowlist && isIpOrRange(d.scope)) {
            const reasons = await allowlistMatches(store, d.value, now);
            if (reasons.length > 0) {
              throw new VigilError(
                'E_ALLOWLISTED',
                `${d.value} is allowlisted by item ${reasons.join(', ')}, use --bypass-allowlist to add the decision anyway`,
              );
            }
          }
          return addDecisions(store, manualAlert({ now, scenario: reason, scope: d.scope, value: d.value, count: 1, machineId: CLI_MACHINE_ID }), [d]);
        },
        { create: true },
      );
      ctx.io.stderr(logLine('info', 'Decision successfully added'));
    });
}

interface DecisionAddFlags {
  ip?: string;
  range?: string;
  scope?: string;
  value?: string;
  duration: string;
  reason?: string;
  type: string;
  bypassAllowlist?: boolean;
}

const isIpOrRange = (scope: string) => /^(ip|range)$/i.test(scope);

/**
 * cscli 1.6.9's bulk check before an import: Ip and Range decisions an allowlist covers are left
 * out, one line each (`Value 192.168.1.1 is allowlisted by [192.168.0.0/16 from foo]`).
 */
async function withoutAllowlisted(ctx: CommandContext, store: Store, decisions: NewDecision[], now: number): Promise<NewDecision[]> {
  const matcher = await allowlistMatcher(store, now);
  if (matcher.size === 0) return decisions;
  const kept: NewDecision[] = [];
  for (const d of decisions) {
    const reasons = isIpOrRange(d.scope) ? matcher.reasonsFor(d.value) : [];
    if (reasons.length === 0) kept.push(d);
    // Go's %s of a []string: the items in brackets, separated by spaces.
    else ctx.io.stdout(`Value ${d.value} is allowlisted by [${reasons.join(' ')}]\n`);
  }
  return kept;
}

function registerDecisionImport(decisions: Command, ctx: CommandContext): void {
  decisions
    .command('import')
    .description('import decisions from a CSV or JSON file, all or nothing')
    .requiredOption('-i, --input <file>', 'CSV (with a header line) or JSON (an array of objects); - for stdin')
    .option('--format <format>', 'csv or json (default: from the file name, else guessed from the content)')
    .option('-d, --duration <duration>', 'default duration for rows without one', DEFAULT_DECISION.duration)
    .option('--scope <scope>', 'default scope for rows without one', DEFAULT_DECISION.scope)
    .option('-R, --reason <reason>', 'default reason for rows without one', 'manual')
    .option('-t, --type <type>', 'default type for rows without one', DEFAULT_DECISION.type)
    .action(async (o: { input: string; format?: string; duration: string; scope: string; reason: string; type: string }) => {
      const rows = readImportFile(o.input, o.format, ctx.io.cwd);
      const now = ctx.io.clock.now();
      const built: NewDecision[] = rows.map((row, i) => {
        const req: DecisionRequest = {
          duration: row.duration || o.duration,
          scope: row.scope || o.scope,
          value: row.value ?? '',
          reason: row.reason || o.reason,
          type: row.type || o.type,
          origin: row.origin || 'cscli-import',
        };
        return buildDecision(req, now, `${o.input} row ${i + 1}`);
      });
      if (built.length === 0) throw new VigilError('E_IMPORT_EMPTY', `${o.input}: no decisions to import`);
      let kept = built;
      const bar = ctx.io.isTTY ? new cliProgress.SingleBar({ clearOnComplete: true }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(built.length, 0);
      try {
        await ctx.withStore(
          async (store) => {
            kept = await withoutAllowlisted(ctx, store, built, now);
            if (kept.length === 0) return;
            bar?.setTotal(kept.length);
            await addDecisions(
              store,
              manualAlert({ now, scenario: `add: ${kept.length} IPs`, scope: 'cscli/manual-import', value: '', count: kept.length, machineId: CLI_MACHINE_ID }),
              kept,
              (done) => bar?.update(done),
            );
          },
          { create: true },
        );
      } finally {
        bar?.stop();
      }
      ctx.io.stderr(logLine('info', `${kept.length} decisions successfully imported`));
    });
}

interface ImportRow {
  duration?: string;
  scope?: string;
  value?: string;
  reason?: string;
  type?: string;
  origin?: string;
}

const IMPORT_KEYS = ['duration', 'scope', 'value', 'reason', 'type', 'origin'] as const;

function readImportFile(input: string, format: string | undefined, cwd: string): ImportRow[] {
  let text: string;
  const file = input === '-' ? 0 : path.resolve(cwd, input);
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new VigilError('E_IMPORT_READ', `--input ${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const kind = format ?? (/\.json$/i.test(input) ? 'json' : /\.csv$/i.test(input) ? 'csv' : /^\s*[[{]/.test(text) ? 'json' : 'csv');
  if (kind !== 'csv' && kind !== 'json') throw usageError(`--format "${format}": use csv or json`);
  let rows: unknown[];
  if (kind === 'json') {
    try {
      rows = JSON.parse(text);
    } catch (e) {
      throw new VigilError('E_IMPORT_PARSE', `${input}: not valid JSON (${(e as Error).message}); expected an array of {"value": …, "duration": …, …}`);
    }
    if (!Array.isArray(rows)) throw new VigilError('E_IMPORT_PARSE', `${input}: expected a JSON array of decisions`);
  } else {
    try {
      rows = parseCsv(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true });
    } catch (e) {
      throw new VigilError(
        'E_IMPORT_PARSE',
        `${input}: not valid CSV (${(e as Error).message.split('\n')[0]}); expected a header such as duration,scope,value,reason`,
      );
    }
  }
  if (rows.length > IMPORT_MAX_ROWS) throw new VigilError('E_IMPORT_SIZE', `${input}: ${rows.length} rows; import at most ${IMPORT_MAX_ROWS} at once`);
  return rows.map((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new VigilError('E_IMPORT_ROW', `${input} row ${i + 1}: expected an object with value, duration, scope, reason, type`);
    }
    const out: ImportRow = {};
    for (const k of IMPORT_KEYS) {
      const v = (r as Record<string, unknown>)[k];
      if (v === undefined || v === null || v === '') continue;
      if (typeof v !== 'string') throw new VigilError('E_IMPORT_ROW', `${input} row ${i + 1}: ${k} must be a string`);
      out[k] = v;
    }
    if (!out.value) throw new VigilError('E_IMPORT_ROW', `${input} row ${i + 1}: value is missing (the IP, range or value to act on)`);
    return out;
  });
}
