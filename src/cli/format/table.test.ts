import { BOUNCERS_AFTER_PULLS, BOUNCERS_BEFORE_PULLS, DECISIONS_HUMAN } from '../../../test/support/cscli-reference.ts';
import { describe, expect, it } from 'vitest';
import { displayWidth } from './display-width.ts';
import { boxTable, plainTable } from './table.ts';

const VALID = '\u2714\ufe0f'; // ✔️ as cscli prints it (emoji.CheckMark)
const REVOKED = '\u{1f6ab}'; // 🚫 (emoji.Prohibited)
const BOUNCER_HEADERS = ['Name', 'IP Address', 'Valid', 'Last API pull', 'Type', 'Version', 'Auth Type'];

// Verbatim from §2: the `keyed` row once revoked (🚫 is two cells wide, ✔️ one).
const REVOKED_ROW =
  ' keyed                                                           🚫      2026-11-24T04:17:15Z                                         api-key   ';

// Verbatim from §5: `cscli machines list`.
const MACHINES = `-----------------------------------------------------------------------------------------------------------------------------------------------
 Name                               IP Address   Last Update            Status   Version                            Auth Type   Last Heartbeat 
-----------------------------------------------------------------------------------------------------------------------------------------------
 3d1219c7c4c5404aaa1f6d2a48adfda4   127.0.0.1    2026-11-24T04:19:45Z   ✔️        v1.4.6-6~deb12u1+b1-linux-debian   password    1m50s          
-----------------------------------------------------------------------------------------------------------------------------------------------
`;

describe('plainTable (cscli bouncers/machines list)', () => {
  it('reproduces the bouncers table before any pull', () => {
    const rows = [
      ['FirewallBouncer-9EBoeUleDMRsN2aATeF1KGcI1kwQ9ce3', '', VALID, '2026-11-24T04:16:55Z', '', '', 'api-key'],
      ['CustomBouncer-TUAcCJY0EfZI1l0J0s0e6Wu3w2hAhVCz', '', VALID, '2026-11-24T04:17:03Z', '', '', 'api-key'],
    ];
    expect(plainTable(BOUNCER_HEADERS, rows)).toBe(BOUNCERS_BEFORE_PULLS);
  });

  const afterRows = [
    ['FirewallBouncer-9EBoeUleDMRsN2aATeF1KGcI1kwQ9ce3', '127.0.0.1', VALID, '2026-11-24T04:19:58Z', 'crowdsec-firewall-bouncer', '-', 'api-key'],
    ['CustomBouncer-TUAcCJY0EfZI1l0J0s0e6Wu3w2hAhVCz', '127.0.0.1', VALID, '2026-11-24T04:19:58Z', 'crowdsec-custom-bouncer', '-', 'api-key'],
    ['testbouncer1', '127.0.0.1', VALID, '2026-11-24T04:18:35Z', 'curl', '7.88.1', 'api-key'],
    ['testbouncer2', '127.0.0.1', VALID, '2026-11-24T04:18:43Z', 'curl', '7.88.1', 'api-key'],
    ['testbouncer3', '127.0.0.1', VALID, '2026-11-24T04:18:57Z', 'x', '1', 'api-key'],
    ['keyed', '', VALID, '2026-11-24T04:17:15Z', '', '', 'api-key'],
  ];

  it('reproduces the bouncers table after pulls (columns grow to fit)', () => {
    expect(plainTable(BOUNCER_HEADERS, afterRows)).toBe(BOUNCERS_AFTER_PULLS);
  });

  it('lines up a revoked row (🚫 counts two cells)', () => {
    const rows = afterRows.map((r) => (r[0] === 'keyed' ? r.with(2, REVOKED) : r));
    const lines = plainTable(BOUNCER_HEADERS, rows).split('\n');
    expect(lines[8]).toBe(REVOKED_ROW);
    // Same total width as the ✔️ rows.
    expect(displayWidth(lines[8])).toBe(displayWidth(lines[3]));
  });

  it('reproduces the machines table', () => {
    const headers = ['Name', 'IP Address', 'Last Update', 'Status', 'Version', 'Auth Type', 'Last Heartbeat'];
    const rows = [['3d1219c7c4c5404aaa1f6d2a48adfda4', '127.0.0.1', '2026-11-24T04:19:45Z', VALID, 'v1.4.6-6~deb12u1+b1-linux-debian', 'password', '1m50s']];
    expect(plainTable(headers, rows)).toBe(MACHINES);
  });

  it('draws the header between two rules when there are no rows', () => {
    expect(plainTable(['Name', 'IP'], [])).toBe('-----------\n Name   IP \n-----------\n');
  });

  it('pads short rows with empty cells', () => {
    expect(plainTable(['A', 'B'], [['x']])).toBe('-------\n A   B \n-------\n x     \n-------\n');
  });
});

describe('boxTable (cscli decisions list)', () => {
  it('reproduces the decisions table byte for byte (headers centred, floor on the left)', () => {
    const rows = DECISIONS_HUMAN.split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) =>
        l
          .slice(1, -1)
          .split('|')
          .map((c) => c.trim()),
      );
    const [headers, ...data] = rows;
    expect(boxTable(headers, data)).toBe(DECISIONS_HUMAN);
  });

  it('honours explicit alignments', () => {
    expect(boxTable(['N'], [['1'], ['100']], { align: ['right'], headerAlign: ['left'] })).toBe('+-----+\n| N   |\n+-----+\n|   1 |\n| 100 |\n+-----+\n');
  });
});

describe('cells go through cscli’s word wrapper', () => {
  it('collapses runs of spaces and trims, as the library does', () => {
    expect(plainTable(['H'], [['  a   b  ']])).toBe('-----\n H   \n-----\n a b \n-----\n');
  });

  it('turns a newline into a multi-line cell', () => {
    expect(plainTable(['H', 'I'], [['a\nbb', 'x']])).toBe('--------\n H    I \n--------\n a    x \n bb     \n--------\n');
  });

  it('wraps cells over 60 cells only when the table is wider than the terminal', () => {
    const cell = Array(14).fill('word').join(' '); // 69 cells
    expect(boxTable(['H'], [[cell]], { availableWidth: 200 })).toContain(`| ${cell} |`);
    const wrapped = boxTable(['H'], [[cell]], { availableWidth: 40 }).split('\n');
    expect(wrapped[3]).toBe(`| ${Array(12).fill('word').join(' ')} |`);
    expect(wrapped[4]).toBe(`| ${'word word'.padEnd(59)} |`);
  });

  it('cuts a single word longer than 60 cells with a hyphen', () => {
    const lines = boxTable(['H'], [['x'.repeat(70)]], { availableWidth: 40 }).split('\n');
    expect(lines[3]).toBe(`| ${'x'.repeat(59)}- |`);
    expect(lines[4]).toBe(`| ${'x'.repeat(11).padEnd(60)} |`);
  });

  it('keeps a bouncer-chosen escape sequence out of the terminal', () => {
    expect(plainTable(['T'], [['a\u001b[31mb']])).toContain(' a\ufffd[31mb ');
  });
});

describe('displayWidth (go-runewidth v0.0.13)', () => {
  it.each<[string, number]>([
    ['', 0],
    ['api-key', 7],
    [VALID, 1],
    [REVOKED, 2],
    ['\u2714', 1],
    ['日本', 4],
    ['e\u0301', 1],
    ['\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', 2],
    ['a\tb', 2],
  ])('%j is %d cells', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });
});
