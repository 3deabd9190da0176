import type { z } from 'zod';
import { CHANNEL_TYPES } from '../notify/channels/index.ts';
import { fileSchema, type KeyDoc } from './config.ts';

/**
 * docs/configuration.md, generated from the configuration's own schema (each key's `.meta()`), so
 * the page cannot drift from what `vigil.yaml` accepts: `npm run docs:config` writes it, and
 * src/config/config-docs.test.ts fails when the committed page differs.
 */
interface Row {
  key: string;
  type: string;
  meta: Partial<KeyDoc>;
}

type Def = { type: string; [k: string]: unknown };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const metaOf = (s: z.ZodType): Partial<KeyDoc> => ((s as unknown as { meta(): unknown }).meta() as Partial<KeyDoc> | undefined) ?? {};

/** Optional wrappers carry the key's meta; the type is read through them. */
function unwrap(s: z.ZodType): { inner: z.ZodType; meta: Partial<KeyDoc> } {
  let meta = metaOf(s);
  let inner = s;
  while (defOf(inner).type === 'optional') {
    inner = defOf(inner).innerType as z.ZodType;
    meta = { ...metaOf(inner), ...meta };
  }
  return { inner, meta };
}

function typeName(s: z.ZodType): string {
  const d = defOf(s);
  switch (d.type) {
    case 'string':
      return (metaOf(s) as { format?: string }).format === 'duration' ? 'duration' : 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'enum':
      return Object.values(d.entries as Record<string, string>).join(' \\| ');
    case 'literal':
      return (d.values as unknown[]).map(String).join(' \\| ');
    case 'array':
      return `list of ${typeName(d.element as z.ZodType)}`;
    case 'record':
      return `map of ${typeName(d.valueType as z.ZodType)}`;
    case 'union': {
      const names = [...new Set((d.options as z.ZodType[]).map(typeName))];
      return names.join(' or ');
    }
    case 'object':
      return 'section';
    default:
      return d.type;
  }
}

function rows(schema: z.ZodType, prefix: string, out: Row[]): Row[] {
  const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
  for (const [name, child] of Object.entries(shape)) {
    const { inner, meta } = unwrap(child);
    const key = prefix ? `${prefix}.${name}` : name;
    out.push({ key, type: typeName(inner), meta });
    if (defOf(inner).type === 'object') rows(inner, key, out);
  }
  return out;
}

const cell = (text: string | undefined) => (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string | undefined) => (text ? (text.includes('`') ? text : `\`${text}\``) : '');

function table(list: Row[], withOverrides: boolean): string {
  const head = withOverrides
    ? '| key | type | default | environment / flag | meaning |\n|---|---|---|---|---|'
    : '| key | type | default | meaning |\n|---|---|---|---|';
  const lines = list.map((r) => {
    const overrides = [r.meta.env && `\`${r.meta.env}\``, r.meta.flag && `\`${r.meta.flag}\``].filter(Boolean).join(', ');
    const base = `| \`${r.key}\` | ${r.type} | ${cell(code(r.meta.default))} |`;
    return withOverrides ? `${base} ${cell(overrides)} | ${cell(r.meta.description)} |` : `${base} ${cell(r.meta.description)} |`;
  });
  return [head, ...lines].join('\n');
}

export function renderConfigDocs(): string {
  const all = rows(fileSchema, '', []);
  const top = all.filter((r) => !r.key.startsWith('notifications.') && !r.key.startsWith('watch.') && r.type !== 'section');
  const sections = all.filter((r) => r.type === 'section');
  const notifications = all.filter((r) => r.key.startsWith('notifications.'));
  const watch = all.filter((r) => r.key.startsWith('watch.'));
  const channelTables = CHANNEL_TYPES.map((d) => {
    const list = rows(d.fileSchema, '', []).filter((r) => r.key !== 'type');
    return `### \`type: ${d.type}\`\n\n${table(list, false)}`;
  });
  return `<!-- Generated from the configuration schema by \`npm run docs:config\` (src/config/config-docs.ts): do not edit by hand. -->
# Configuration

Vigil reads, in this order of precedence: **flags** > **environment** (\`VIGIL_*\`) > **\`vigil.yaml\`** > defaults.
Every key is optional; an unknown key, a malformed value or a bad file is refused with the file, the
key and the fix.

**Which file**: \`--config FILE\` or \`VIGIL_CONFIG\`, else \`./vigil.yaml\` in the working directory, else
\`/etc/vigil/vigil.yaml\`. \`\${VAR}\` in notification secrets is replaced from the environment when
notifications start; \`$$\` is a literal \`$\`.

**Which store**: \`--db\` > \`VIGIL_DB\` > \`db:\` > the default data directory (\`$VIGIL_DATA_DIR\`, else
\`/var/lib/vigil\` as root, else \`\${XDG_DATA_HOME:-~/.local/share}/vigil\`). Only commands that write
(\`bouncers add\`, \`decisions add|import\`, \`admin token|password\`, \`serve\`, \`watch\`) create a store, and
say so; a read on a store that does not exist fails naming the path. Files are created \`0600\` in a
\`0700\` directory; \`vigil serve\` refuses a store other users can read.

Durations are Go durations: \`250ms\`, \`10s\`, \`5m\`, \`24h\`, \`1h30m\`.

**Reload without a restart**: \`kill -HUP <pid>\` (systemd: \`systemctl reload vigil\`) or \`vigil reload\`
re-reads the file in a running \`vigil serve\` and applies, keeping open issues, learnt cadences,
decisions in memory and connections: \`log_level\`, \`health\` (rules and \`evaluate_every\`),
\`notifications\` (channels, filters, delivery settings; \`\${VAR}\` re-read from serve's environment)
and \`canaries\`. \`listen\`, \`tls\`, \`db\`, \`metrics_listen\`, \`admin_listen\`, \`admin_session_ttl\`,
\`admin_trusted_proxies\`, \`decisions_sync_every\`, \`activity_flush_every\`, \`limits\`, \`api\`,
\`profiles\` and \`flush\` need a restart: a reload names the ones that changed in one log line ("listen changed:
needs a restart") and applies the rest. A file that does not load (bad YAML, a bad key, an unset
\`\${VAR}\`) is refused whole: serve keeps running as it was and logs one line naming the file, the key
and the reason; \`vigil reload\` prints it and exits 1. See [operations.md](operations.md#reload).

## Top-level keys

${table(top, true)}

Sections:

${sections.map((r) => `- \`${r.key}\`: ${r.meta.description ?? ''}`).join('\n')}

## \`notifications\`

${table(
  notifications.filter((r) => !r.key.startsWith('notifications.channels.')),
  false,
)}

Each entry of \`notifications.channels\` has a \`type\`; the filter keys (\`criticality\`, \`kinds\`,
\`bouncers\`, \`remind_every\`) apply to every type. See [notifications.md](notifications.md).

${channelTables.join('\n\n')}

## \`watch\`

\`VIGIL_WATCH_<KEY>\` (e.g. \`VIGIL_WATCH_POLL_EVERY\`) and the flags of \`vigil watch\` override these. See [watch.md](watch.md).

${table(watch, true)}

## Other environment variables

| variable | meaning |
|---|---|
| \`VIGIL_CONFIG\` | the configuration file (as \`--config\`) |
| \`VIGIL_DATA_DIR\` | where the default store lives |
| \`VIGIL_BOUNCER_KEY\` and others named in \`\${…}\` | whatever your \`vigil.yaml\` references |

The forward-auth daemon (\`vigil bouncer forward-auth\`) has its own YAML: see [bouncer.md](bouncer.md).
`;
}
