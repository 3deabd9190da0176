import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { allowlistInterval, checkAllowlistName, checkAllowlistText, type Allowlist } from '../core/allowlists/allowlists.ts';
import { VigilError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import {
  addAllowlistItems,
  allowlistItems,
  allowlistMatcher,
  createAllowlist,
  deleteAllowlist,
  expireAllowlistedDecisions,
  listAllowlists,
  removeAllowlistItems,
  requireAllowlist,
  type NewAllowlistItem,
} from '../store/allowlists.ts';
import type { Store } from '../store/store.ts';
import { formatAllowlistInspect, formatAllowlistList } from './format/allowlists.ts';
import { logLine } from './io.ts';
import { addInspectCommand, outputOption, type CommandContext, type OutputFormat } from './context.ts';

/** An import refuses files larger than this many rows rather than exhausting memory. */
const IMPORT_MAX_ROWS = 1_000_000;

/**
 * `vigil allowlists …` in cscli's grammar and words (CrowdSec 1.7.8's cliallowlists; docs/allowlists.md):
 * create, list, inspect, add, remove, import, delete, check. One difference on purpose: a value that
 * is neither an IP nor a range refuses the whole `add`/`import` (cscli logs it and adds the others).
 */
export function registerAllowlistCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('allowlists').alias('allowlist').description('manage centralized allowlists (IPs and ranges never banned)');
  registerAllowlistCreate(cmd, ctx);
  registerAllowlistList(cmd, ctx);
  registerAllowlistInspect(cmd, ctx);
  registerAllowlistAdd(cmd, ctx);
  registerAllowlistImport(cmd, ctx);
  registerAllowlistRemove(cmd, ctx);
  registerAllowlistDelete(cmd, ctx);
  registerAllowlistCheck(cmd, ctx);
}

/** `vigil allowlists create NAME -d TEXT`. */
function registerAllowlistCreate(cmd: Command, ctx: CommandContext): void {
  cmd
    .command('create <name>')
    .description('create a new allowlist')
    .requiredOption('-d, --description <text>', 'description of the allowlist')
    .action(async (name: string, o: { description: string }) => {
      checkAllowlistName(name);
      checkAllowlistText('--description', o.description);
      await ctx.withStore((store) => createAllowlist(store, { name, description: o.description, now: ctx.io.clock.now() }), { create: true });
      ctx.io.stdout(`allowlist '${name}' created successfully\n`);
    });
}

/** `vigil allowlists list`: every list with its values. */
function registerAllowlistList(cmd: Command, ctx: CommandContext): void {
  cmd
    .command('list')
    .description('list all allowlists')
    .addOption(outputOption())
    .action(async (o: { output: OutputFormat }) => {
      const now = ctx.io.clock.now();
      const lists = await ctx.withStore(async (store) => {
        const all = await listAllowlists(store);
        const items = await allowlistItems(
          store,
          all.map((l) => l.id),
        );
        return all.map((list) => ({ list, items: items.filter((i) => i.allowlistId === list.id) }));
      });
      ctx.io.stdout(formatAllowlistList(lists, o.output, now));
    });
}

/** `vigil allowlists inspect NAME`. */
function registerAllowlistInspect(cmd: Command, ctx: CommandContext): void {
  addInspectCommand(cmd, 'inspect an allowlist: its details and active values', async (name, output) => {
    const now = ctx.io.clock.now();
    const shown = await ctx.withStore(async (store) => {
      const list = await requireAllowlist(store, name);
      return { list, items: await allowlistItems(store, [list.id]) };
    });
    ctx.io.stdout(formatAllowlistInspect(shown, output, now));
  });
}

/** `vigil allowlists add NAME VALUE…`. */
function registerAllowlistAdd(cmd: Command, ctx: CommandContext): void {
  cmd
    .command('add <name> <values...>')
    .description('add IPs or ranges to an allowlist; active decisions on them are expired')
    .option('-e, --expiration <duration>', 'expire the values after this long, e.g. 7d, 12h (default: never)')
    .option('-d, --comment <text>', 'comment for the values', '')
    .action(async (name: string, values: string[], o: { expiration?: string; comment: string }) => {
      checkAllowlistText('--comment', o.comment);
      const now = ctx.io.clock.now();
      const expiresAt = o.expiration === undefined ? null : now + parseDuration(o.expiration, '--expiration');
      await ctx.withStore(async (store) => {
        await addValues(
          ctx,
          store,
          name,
          values.map((value) => ({ value, comment: o.comment, expiresAt })),
          now,
        );
      });
    });
}

/** `vigil allowlists import NAME -i FILE`. */
function registerAllowlistImport(cmd: Command, ctx: CommandContext): void {
  cmd
    .command('import <name>')
    .description('add values from a CSV file (header: value[,expiration][,comment]); active decisions on them are expired')
    .requiredOption('-i, --input <file>', 'CSV file; - for stdin')
    .action(async (name: string, o: { input: string }) => {
      const now = ctx.io.clock.now();
      const items = readAllowlistCsv(o.input, ctx.io.cwd, now);
      await ctx.withStore(async (store) => {
        await addValues(ctx, store, name, items, now);
      });
    });
}

/** `vigil allowlists remove NAME VALUE…`: values the list does not hold are left out. */
function registerAllowlistRemove(cmd: Command, ctx: CommandContext): void {
  cmd
    .command('remove <name> <values...>')
    .description('remove values from an allowlist')
    .action(async (name: string, values: string[]) => {
      const now = ctx.io.clock.now();
      await ctx.withStore(async (store) => {
        const list = editable(await requireAllowlist(store, name), 'delete');
        const held = new Set((await allowlistItems(store, [list.id])).map((i) => i.value));
        const toRemove = [...new Set(values.filter((v) => held.has(v)))];
        if (toRemove.length === 0) {
          ctx.io.stdout('no value to remove from allowlist\n');
          return;
        }
        const n = await removeAllowlistItems(store, list, toRemove, now);
        // cscli 1.7.8 prints this without a newline; Vigil ends the line.
        if (n > 0) ctx.io.stdout(`removed ${n} values from allowlist ${name}\n`);
      });
    });
}

/** `vigil allowlists delete NAME`: a Console-managed list is refused in cscli's words. */
function registerAllowlistDelete(cmd: Command, ctx: CommandContext): void {
  cmd
    .command('delete <name>')
    .description('delete an allowlist and its values')
    .action(async (name: string) => {
      await ctx.withStore(async (store) => {
        const list = await requireAllowlist(store, name);
        if (list.fromConsole) {
          throw new VigilError(
            'E_ALLOWLIST_READONLY',
            `allowlist ${name} is managed by console, cannot delete with cscli. Please visit https://app.crowdsec.net/allowlists/${list.allowlistId} to unsubscribe`,
          );
        }
        if (!(await deleteAllowlist(store, name))) throw new VigilError('E_NO_ALLOWLIST', `allowlist '${name}' not found`);
      });
      ctx.io.stdout(`allowlist '${name}' deleted successfully\n`);
    });
}

/** `vigil allowlists check VALUE…`: which items allowlist each value. */
function registerAllowlistCheck(cmd: Command, ctx: CommandContext): void {
  cmd
    .command('check <values...>')
    .description('check whether IPs or ranges are allowlisted, and by which items')
    .action(async (values: string[]) => {
      const now = ctx.io.clock.now();
      const matcher = await ctx.withStore((store) => allowlistMatcher(store, now));
      for (const v of values) {
        const reasons = matcher.reasonsFor(v);
        ctx.io.stdout(reasons.length === 0 ? `${v} is not allowlisted\n` : `${v} is allowlisted by item ${reasons.join(', ')}\n`);
      }
    });
}

/** A list cscli may edit; a Console-managed one is refused in cscli's words. */
function editable(list: Allowlist, verb: 'update' | 'delete'): Allowlist {
  if (list.fromConsole) {
    throw new VigilError(
      'E_ALLOWLIST_READONLY',
      `allowlist ${list.name} is managed by console, cannot ${verb} with cscli. Please visit https://app.crowdsec.net/allowlists/${list.allowlistId} to ${verb}`,
    );
  }
  return list;
}

/**
 * cscli's add and import: values the list holds already are named and left out, the others added
 * in one transaction, then every active decision an allowlist covers is expired (1.6.9+).
 */
async function addValues(ctx: CommandContext, store: Store, name: string, items: readonly NewAllowlistItem[], now: number): Promise<void> {
  const list = editable(await requireAllowlist(store, name), 'update');
  // Every value checked before anything is written.
  for (const item of items) allowlistInterval(item.value);
  const held = new Set((await allowlistItems(store, [list.id])).map((i) => i.value));
  const toAdd: NewAllowlistItem[] = [];
  for (const item of items) {
    if (held.has(item.value)) {
      ctx.io.stderr(logLine('warning', `value ${item.value} already in allowlist`));
      continue;
    }
    held.add(item.value);
    toAdd.push(item);
  }
  if (toAdd.length === 0) {
    ctx.io.stdout('no new values for allowlist\n');
    return;
  }
  const added = await addAllowlistItems(store, list, toAdd, now);
  if (added > 0) ctx.io.stdout(`added ${added} values to allowlist ${name}\n`);
  const expired = await expireAllowlistedDecisions(store, now);
  if (expired > 0) ctx.io.stdout(`${expired} decisions deleted by allowlists\n`);
}

/** cscli's import file: CSV with a header, a `value` column, optional `expiration` (a duration) and `comment`. */
function readAllowlistCsv(input: string, cwd: string, now: number): NewAllowlistItem[] {
  let text: string;
  try {
    text = fs.readFileSync(input === '-' ? 0 : path.resolve(cwd, input), 'utf8');
  } catch (e) {
    throw new VigilError('E_IMPORT_READ', `--input ${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true });
  } catch (e) {
    throw new VigilError(
      'E_IMPORT_PARSE',
      `${input}: unable to parse CSV (${(e as Error).message.split('\n')[0]}); expected a header such as value,expiration,comment`,
    );
  }
  if (rows.length === 0) throw new VigilError('E_IMPORT_EMPTY', `${input}: no values to import`);
  if (rows.length > IMPORT_MAX_ROWS) throw new VigilError('E_IMPORT_SIZE', `${input}: ${rows.length} rows; import at most ${IMPORT_MAX_ROWS} at once`);
  return rows.map((r, i) => {
    if (!r.value) throw new VigilError('E_IMPORT_ROW', `row ${i + 1}: missing 'value'`);
    const expiresAt = r.expiration ? now + parseDuration(r.expiration, `row ${i + 1}: expiration`) : null;
    return { value: r.value, comment: checkAllowlistText(`row ${i + 1}: comment`, r.comment ?? ''), expiresAt };
  });
}
