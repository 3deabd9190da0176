import { displayWidth } from './display-width.ts';

/**
 * The two table looks of cscli 1.4.6 (aquasecurity/table v1.8.0 as cscli configures it), so
 * Vigil's human output lines up byte for byte with CrowdSec's (wire protocol §2, §3, §5):
 *
 *   plainTable (`bouncers list`, `machines list`): dash lines above and below the header and
 *   at the end, no side borders, cells ' ' + text + ' ' joined by ' ' (three spaces between
 *   columns), headers left-aligned.
 *   boxTable (`decisions list`): ASCII `+---+` / `| x |` borders, headers centred.
 *
 * Widths are terminal cells (display-width.ts). As in cscli, every cell goes through the
 * library's word wrapper: runs of spaces collapse, ends are trimmed, '\n' makes a multi-line
 * cell, and when the table is wider than the terminal, cells wider than 60 cells wrap.
 */

export type Align = 'left' | 'center' | 'right';

export interface TableOptions {
  /** Per column; columns not listed use the style's default (plain: left, box: center). */
  headerAlign?: readonly Align[];
  /** Per column; default left. */
  align?: readonly Align[];
  /**
   * Terminal width. cscli uses the terminal's when stdout is one, else 80; only tables wider
   * than this wrap their cells over 60 cells. Default 80, cscli's piped behaviour.
   */
  availableWidth?: number;
}

interface Dividers {
  /** Junctions (all '+' in ASCII, '-' in the plain style). */
  cross: string;
  /** Horizontal line. */
  ew: string;
  /** Vertical line between cells. */
  ns: string;
}

interface Style {
  dividers: Dividers;
  sideBorders: boolean;
  defaultHeaderAlign: Align;
}

const PLAIN: Style = { dividers: { cross: '-', ew: '-', ns: ' ' }, sideBorders: false, defaultHeaderAlign: 'left' };
const BOX: Style = { dividers: { cross: '+', ew: '-', ns: '|' }, sideBorders: true, defaultHeaderAlign: 'center' };

/** cscli 1.4.6 `bouncers list` / `machines list` table. Every line ends with '\n'. */
export function plainTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  return renderTable(PLAIN, headers, rows, options);
}

/** cscli 1.4.6 `decisions list` table. Every line ends with '\n'. */
export function boxTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  return renderTable(BOX, headers, rows, options);
}

/** aquasecurity/table's default maximum column width, used only when wrapping. */
const MAX_COLUMN_WIDTH = 60;
const PADDING = 1;

interface Row {
  header: boolean;
  cells: string[];
  lines: string[][]; // [cell][line]
  height: number;
}

function renderTable(style: Style, headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions): string {
  const availableWidth = options.availableWidth ?? 80;
  const source: Array<{ header: boolean; cells: readonly string[] }> = [];
  if (headers.length > 0) source.push({ header: true, cells: headers });
  for (const r of rows) source.push({ header: false, cells: r });
  if (source.length === 0) return '';

  const columnCount = Math.max(...source.map((r) => r.cells.length));
  const table: Row[] = source.map((r) => {
    const cells = Array.from({ length: columnCount }, (_, c) => sanitizeCell(r.cells[c] ?? ''));
    return { header: r.header, cells, lines: [], height: 0 };
  });

  // Wrap only when the unwrapped table (borders counted) is wider than the terminal.
  const widest = Math.max(...table.map((r) => 1 + r.cells.reduce((sum, cell) => sum + displayWidth(cell) + PADDING * 2 + 1, 0)));
  const wrapping = availableWidth < widest;
  for (const row of table) {
    row.lines = row.cells.map((cell) => wrapText(cell, wrapping ? MAX_COLUMN_WIDTH : displayWidth(cell)));
    row.height = Math.max(...row.lines.map((l) => l.length));
    for (const l of row.lines) while (l.length < row.height) l.push('');
  }

  const widths = Array.from({ length: columnCount }, (_, c) => Math.max(...table.map((row) => Math.max(...row.lines[c].map(displayWidth)))));
  const alignOf = (row: Row, c: number): Align => (row.header ? (options.headerAlign?.[c] ?? style.defaultHeaderAlign) : (options.align?.[c] ?? 'left'));

  const { cross, ew, ns } = style.dividers;
  const rule = (): string => {
    const segments = widths.map((w) => ew.repeat(w + PADDING * 2));
    const inner = segments.join(cross);
    return (style.sideBorders ? cross + inner + cross : inner) + '\n';
  };
  const pad = ' '.repeat(PADDING);

  let out = '';
  table.forEach((row, r) => {
    // A rule above the first row, and below the header; no rules between data rows.
    if (r === 0 || table[r - 1].header) out += rule();
    for (let y = 0; y < row.height; y++) {
      const cells = row.lines.map((lines, c) => pad + align(lines[y], widths[c], alignOf(row, c)) + pad);
      const inner = cells.join(ns);
      out += (style.sideBorders ? ns + inner + ns : inner) + '\n';
    }
  });
  out += rule();
  return out;
}

function align(text: string, width: number, how: Align): string {
  const gap = width - displayWidth(text);
  if (gap <= 0) return text;
  if (how === 'right') return ' '.repeat(gap) + text;
  if (how === 'center') {
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + text + ' '.repeat(gap - left);
  }
  return text + ' '.repeat(gap);
}

/**
 * Control characters other than '\n' become U+FFFD. Deliberate divergence from cscli: a bouncer
 * chooses its User-Agent (type/version), and it must not be able to drive the operator's terminal.
 */
function sanitizeCell(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '\uFFFD');
}

/** Go's strings.TrimSpace (unicode.IsSpace; unlike String.prototype.trim, U+FEFF is not space). */
function goTrimSpace(text: string): string {
  return text.replace(
    /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g,
    '',
  );
}

const NEWLINE = '\n'; // marker between source lines; no word can contain '\n'

/** Port of aquasecurity/table v1.8.0 `wrapText` (ANSI handling left out: cells are sanitised). */
function wrapText(input: string, wrapSize: number): string[] {
  const words: string[] = [];
  for (const sourceLine of input.split('\n')) {
    if (words.length > 0) words.push(NEWLINE);
    for (const raw of goTrimSpace(sourceLine).split(' ')) {
      let word = goTrimSpace(raw);
      if (displayWidth(word) === 0) continue;
      // A word too long for a line is cut (by code points, as the library does) with a '-'.
      while (displayWidth(word) > wrapSize) {
        const cps = Array.from(word);
        const before = cps.slice(0, Math.max(wrapSize - 1, 0)).join('');
        if (before === '') break; // the library would loop forever here; keep the word whole
        words.push(before + '-');
        word = cps.slice(wrapSize - 1).join('');
      }
      if (displayWidth(word) > 0) words.push(word);
    }
  }

  const output: string[] = [];
  let current = '';
  for (const word of words) {
    const used = displayWidth(current);
    const wordWidth = displayWidth(word);
    if (word === NEWLINE) {
      output.push(goTrimSpace(current));
      current = '';
    } else if (wrapSize - used === 0 || used + wordWidth > wrapSize) {
      output.push(goTrimSpace(current));
      current = wordWidth < wrapSize ? word + ' ' : word;
    } else if (used + wordWidth === wrapSize) {
      current += word;
    } else {
      current += word + ' ';
    }
  }
  if (displayWidth(current) > 0) output.push(goTrimSpace(current));
  if (output.length === 0) output.push('');
  return output;
}
