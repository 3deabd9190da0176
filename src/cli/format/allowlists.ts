import type { Allowlist, AllowlistItem } from '../../core/allowlists/allowlists.ts';
import { allowlistJson, strfmtDateTime } from '../../core/allowlists/wire.ts';
import { formatRfc3339 } from '../../lib/duration.ts';
import { csvRow } from './csv.ts';
import { displayWidth } from './display-width.ts';
import { goJson } from './go-json.ts';
import type { OutputFormat } from './output-format.ts';

/**
 * `cscli allowlists list` and `inspect` output (CrowdSec 1.7.8's cliallowlists, test/bats/
 * cscli-allowlists.bats): cstable.NewLight tables (go-pretty: no side borders, no column
 * separators, a dash line above and below the header and at the end, cells padded with one
 * space, numbers right-aligned), `-o json` as the Local API's objects indented by two spaces,
 * `-o raw` as CSV. Expired items are left out, as the Local API leaves them out. Pure.
 */

export interface AllowlistWithItems {
  list: Allowlist;
  items: readonly AllowlistItem[];
}

interface Cell {
  text: string;
  right?: boolean;
}

const pad = (c: Cell, width: number): string => {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(c.text)));
  return ` ${c.right ? fill + c.text : c.text + fill} `;
};

/** go-pretty's light table as cscli configures it; `title` above everything when given. */
export function lightTable(headers: readonly string[] | null, rows: readonly (readonly Cell[])[], title?: string): string {
  const columns = Math.max(headers?.length ?? 0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let i = 0; i < columns; i++) {
    widths.push(Math.max(displayWidth(headers?.[i] ?? ''), ...rows.map((r) => displayWidth(r[i]?.text ?? ''))));
  }
  let total = widths.reduce((n, w) => n + w + 2, 0);
  if (title !== undefined) total = Math.max(total, displayWidth(title) + 2);
  const line = `${'-'.repeat(total)}\n`;
  const render = (cells: readonly Cell[]) => `${widths.map((w, i) => pad(cells[i] ?? { text: '' }, w)).join('')}\n`;
  let out = line;
  if (title !== undefined) out += ` ${title}${' '.repeat(Math.max(0, total - 2 - displayWidth(title)))} \n${line}`;
  if (headers !== null) out += render(headers.map((text) => ({ text }))) + line;
  for (const r of rows) out += render(r);
  return out + line;
}

const active = (items: readonly AllowlistItem[], now: number) => items.filter((i) => i.expiresAt === null || i.expiresAt >= now);

/** `cscli allowlists list` (cscli asks the Local API with content, so Size counts active items). */
export function formatAllowlistList(lists: readonly AllowlistWithItems[], output: OutputFormat, now: number): string {
  switch (output) {
    case 'json':
      return `${goJson(
        lists.map((l) => allowlistJson(l.list, l.items, now)),
        '  ',
      )}\n`;
    case 'raw': {
      let out = csvRow(['name', 'description', 'created_at', 'updated_at', 'console_managed', 'size']);
      for (const { list, items } of lists) {
        out += csvRow([
          list.name,
          list.description,
          formatRfc3339(list.createdAt),
          formatRfc3339(list.updatedAt),
          String(list.fromConsole),
          String(active(items, now).length),
        ]);
      }
      return out;
    }
    default: {
      const rows = lists.map(({ list, items }) => [
        { text: list.name },
        { text: list.description },
        { text: strfmtDateTime(list.createdAt) },
        { text: strfmtDateTime(list.updatedAt) },
        { text: list.fromConsole ? 'yes' : 'no' },
        { text: String(active(items, now).length), right: true },
      ]);
      // cscli prints go-pretty's Render() with Fprintln: the table's lines, each ending in '\n'.
      return lightTable(['Name', 'Description', 'Created at', 'Updated at', 'Managed by Console', 'Size'], rows);
    }
  }
}

/** `cscli allowlists inspect NAME`. */
export function formatAllowlistInspect({ list, items }: AllowlistWithItems, output: OutputFormat, now: number): string {
  const shown = active(items, now);
  switch (output) {
    case 'json':
      return `${goJson(allowlistJson(list, items, now), '  ')}\n`;
    case 'raw': {
      let out = csvRow(['name', 'description', 'value', 'comment', 'expiration', 'created_at', 'console_managed']);
      for (const item of shown) {
        const expiration = item.expiresAt === null ? 'never' : formatRfc3339(item.expiresAt);
        out += csvRow([list.name, list.description, item.value, item.comment, expiration, formatRfc3339(item.createdAt), String(list.fromConsole)]);
      }
      return out;
    }
    default: {
      const info = lightTable(
        null,
        [
          ['Name', list.name],
          ['Description', list.description],
          ['Created at', strfmtDateTime(list.createdAt)],
          ['Updated at', strfmtDateTime(list.updatedAt)],
          ['Managed by Console', list.fromConsole ? 'yes' : 'no'],
        ].map((r) => r.map((text) => ({ text }))),
        `Allowlist: ${list.name}`,
      );
      const content = lightTable(
        ['Value', 'Comment', 'Expiration', 'Created at'],
        shown.map((item) => [
          { text: item.value },
          { text: item.comment },
          { text: item.expiresAt === null ? 'never' : strfmtDateTime(item.expiresAt) },
          { text: formatRfc3339(item.createdAt) },
        ]),
      );
      // Fprintln(info), Fprintln(), Fprintln(content).
      return `${info}\n${content}`;
    }
  }
}
