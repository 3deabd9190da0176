import { formatRfc3339 } from '../../lib/duration.ts';
import type { Bouncer } from '../../core/model/records.ts';
import { crowdsecBouncerColumns } from '../../core/model/crowdsec-bouncer.ts';
import { csvRow } from './csv.ts';
import { goJson } from './go-json.ts';
import type { OutputFormat } from './output-format.ts';
import { plainTable } from './table.ts';

/**
 * `cscli bouncers add` / `cscli bouncers list` output, byte-compatible with CrowdSec 1.4.6
 * (wire protocol §2). Pure: the caller prints the string as is.
 */

/** What `cscli bouncers add NAME` prints. json and raw have no trailing newline, as in cscli. */
export function formatBouncerAdded(name: string, key: string, output: OutputFormat): string {
  switch (output) {
    case 'human':
      return `Api key for '${name}':\n\n   ${key}\n\nPlease keep this key since you will not be able to retrieve it!\n`;
    case 'json':
      return goJson(key);
    case 'raw':
      return key;
  }
}

/** A Vigil column after CrowdSec's (e.g. Health). */
export interface BouncerColumn {
  header: string;
  /** CSV header for `-o raw`; default: `header` lowercased, spaces → '_'. */
  rawHeader?: string;
  value: (bouncer: Bouncer) => string;
}

export interface BouncerListOptions {
  /** Appended after CrowdSec's columns in human and raw output. */
  extraColumns?: readonly BouncerColumn[];
  /** Appended after CrowdSec's keys (after auth_type) in each json object. */
  extraJson?: (bouncer: Bouncer) => Record<string, unknown>;
  /** Terminal width for the human table (see table.ts); default 80. */
  availableWidth?: number;
}

const HEADERS = ['Name', 'IP Address', 'Valid', 'Last API pull', 'Type', 'Version', 'Auth Type'];
const RAW_HEADERS = ['name', 'ip', 'revoked', 'last_pull', 'type', 'version', 'auth_type'];
/** enescakir/emoji CheckMark (U+2714 U+FE0F) and Prohibited (U+1F6AB), as cscli prints them. */
const VALID = '\u2714\ufe0f';
const REVOKED = '\u{1f6ab}';

/**
 * `cscli bouncers list` in the three formats, bouncers in the order given (cscli shows them in
 * id order). Deliberate difference: a bouncer that never pulled shows an empty "Last API pull"
 * (json: null); CrowdSec shows its creation time there, which hides exactly the silence Vigil
 * is about.
 */
export function formatBouncerList(bouncers: readonly Bouncer[], output: OutputFormat, options: BouncerListOptions = {}): string {
  const extra = options.extraColumns ?? [];
  const lastPull = (b: Bouncer): string => (b.lastPullAt === null ? '' : formatRfc3339(b.lastPullAt));
  switch (output) {
    case 'human': {
      const headers = [...HEADERS, ...extra.map((c) => c.header)];
      const rows = bouncers.map((b) => [
        b.name,
        b.ipAddress,
        b.revoked ? REVOKED : VALID,
        lastPull(b),
        b.type,
        b.version,
        b.authType,
        ...extra.map((c) => c.value(b)),
      ]);
      return plainTable(headers, rows, { availableWidth: options.availableWidth });
    }
    case 'raw': {
      let out = csvRow([...RAW_HEADERS, ...extra.map((c) => c.rawHeader ?? c.header.toLowerCase().replace(/\s+/g, '_'))]);
      for (const b of bouncers) {
        // Sic: CrowdSec labels the revoked column validated/pending (§2, §7.9).
        out += csvRow([b.name, b.ipAddress, b.revoked ? 'pending' : 'validated', lastPull(b), b.type, b.version, b.authType, ...extra.map((c) => c.value(b))]);
      }
      return out;
    }
    case 'json': {
      // json.Encoder with a two-space indent: a trailing newline, and `[]` for no bouncers.
      return (
        goJson(
          bouncers.map((b) => bouncerJson(b, options.extraJson)),
          '  ',
        ) + '\n'
      );
    }
  }
}

/**
 * The ent row as cscli encodes it. CrowdSec's schema gives `created_at` an UpdateDefault, so
 * it moves with every write and equals updated_at (test/fixtures/crowdsec-1.4.6/cscli-bouncers-list.json), while
 * `until`, never written after creation, is what keeps the creation time. Kept on purpose.
 */
function bouncerJson(b: Bouncer, extraJson: BouncerListOptions['extraJson']): Record<string, unknown> {
  const nano = { nano: true };
  return {
    id: b.id,
    created_at: formatRfc3339(b.updatedAt, nano),
    updated_at: formatRfc3339(b.updatedAt, nano),
    ...crowdsecBouncerColumns(b),
    until: formatRfc3339(b.createdAt, nano),
    last_pull: b.lastPullAt === null ? null : formatRfc3339(b.lastPullAt, nano),
    auth_type: b.authType,
    ...extraJson?.(b),
  };
}
