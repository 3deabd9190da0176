import { describe, expect, it } from 'vitest';
import type { Allowlist, AllowlistItem } from '../../core/allowlists/allowlists.ts';
import { formatAllowlistInspect, formatAllowlistList } from './allowlists.ts';

/** cscli 1.7.8's outputs, as test/bats/cscli-allowlists.bats pins them. */
const T0 = Date.UTC(2026, 11, 7, 10, 0, 0, 123);
const list: Allowlist = { id: 1, name: 'foo', description: 'a foo', allowlistId: '', fromConsole: false, createdAt: T0, updatedAt: T0 };
const item = (value: string, comment = '', expiresAt: number | null = null): AllowlistItem => ({
  id: 1,
  allowlistId: 1,
  value,
  comment,
  expiresAt,
  createdAt: T0,
});

describe('allowlists list and inspect in cscli 1.7.8 form', () => {
  it('list, empty: the header between dash lines, as the bats test has it; raw is the header; json []', () => {
    expect(formatAllowlistList([], 'human', T0)).toBe(
      [
        '---------------------------------------------------------------------',
        ' Name  Description  Created at  Updated at  Managed by Console  Size ',
        '---------------------------------------------------------------------',
        '---------------------------------------------------------------------',
        '',
      ].join('\n'),
    );
    expect(formatAllowlistList([], 'raw', T0)).toBe('name,description,created_at,updated_at,console_managed,size\n');
    expect(formatAllowlistList([], 'json', T0)).toBe('[]\n');
  });

  it('list, one list: times as strfmt prints them, the size right-aligned and counting active values only', () => {
    const out = formatAllowlistList([{ list, items: [item('1.1.1.1'), item('2.2.2.2', '', T0 - 1)] }], 'human', T0).split('\n');
    expect(out[3]).toBe(' foo   a foo        2026-12-07T10:00:00.123Z  2026-12-07T10:00:00.123Z  no                     1 ');
    expect(formatAllowlistList([{ list, items: [item('1.1.1.1')] }], 'raw', T0)).toBe(
      'name,description,created_at,updated_at,console_managed,size\nfoo,a foo,2026-12-07T10:00:00Z,2026-12-07T10:00:00Z,false,1\n',
    );
  });

  it('inspect: the titled details, a blank line, the values; raw with never for no expiry', () => {
    const shown = { list: { ...list, description: 'A Foo' }, items: [item('1.2.3.4'), item('10.0.0.0/8', 'lab', T0 + 3_600_000)] };
    // Column widths from the widest cell; the title padded to the table's width.
    expect(formatAllowlistInspect(shown, 'human', T0)).toBe(
      [
        '----------------------------------------------',
        ' Allowlist: foo                               ',
        '----------------------------------------------',
        ' Name                foo                      ',
        ' Description         A Foo                    ',
        ' Created at          2026-12-07T10:00:00.123Z ',
        ' Updated at          2026-12-07T10:00:00.123Z ',
        ' Managed by Console  no                       ',
        '----------------------------------------------',
        '',
        '---------------------------------------------------------------------',
        ' Value       Comment  Expiration                Created at           ',
        '---------------------------------------------------------------------',
        ' 1.2.3.4              never                     2026-12-07T10:00:00Z ',
        ' 10.0.0.0/8  lab      2026-12-07T11:00:00.123Z  2026-12-07T10:00:00Z ',
        '---------------------------------------------------------------------',
        '',
      ].join('\n'),
    );
    expect(formatAllowlistInspect(shown, 'raw', T0)).toBe(
      'name,description,value,comment,expiration,created_at,console_managed\nfoo,A Foo,1.2.3.4,,never,2026-12-07T10:00:00Z,false\nfoo,A Foo,10.0.0.0/8,lab,2026-12-07T11:00:00Z,2026-12-07T10:00:00Z,false\n',
    );
  });
});
