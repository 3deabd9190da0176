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

/** The prose above the key tables: precedence, which file, `${VAR}`, which store, reload. */
const CONFIG_INTRO = `Vigil reads, in this order of precedence: **flags** > **environment** (\`VIGIL_*\`) > **\`vigil.yaml\`** > defaults.
Every key is optional; an unknown key, a malformed value or a bad file is refused with the file, the
key and the fix.

**Which file**: \`--config FILE\` or \`VIGIL_CONFIG\`, else \`./vigil.yaml\` in the working directory, else
\`/etc/vigil/vigil.yaml\`. A **\`vigil.yaml.local\`** beside it is merged over it, as CrowdSec merges
\`config.yaml.local\` (go-cs-lib yamlpatch): mappings key by key, lists and values replaced, an empty
value leaves the file's. Keep the packaged file as shipped and put your changes (or a container's
mounted settings) in the \`.local\` one; a bad key there is reported as \`config file vigil.yaml (with
vigil.yaml.local): KEY: …\`.

**Environment variables in the file**: \`\${VAR}\` and \`\${VAR:-default}\` are replaced in every value
of both files (\`api.auto_registration.token: \${REGISTRATION_TOKEN}\`, \`db: postgres://vigil:\${DB_PASSWORD}@db/vigil\`,
\`listen: 0.0.0.0:\${PORT:-8080}\`), after the YAML is read, so a variable's text never changes the
file's structure. A value that is one whole reference takes the type its text reads as where the key
wants one (\`max_connections: \${MAX}\`, \`use_forwarded_for_headers: \${BEHIND_LB:-false}\`,
\`trusted_proxies: \${LB}\` with \`LB='[10.0.0.5, 10.0.0.6]'\`). An unset variable without a default stops
the start naming it, the file and the key (\`config file /etc/vigil/vigil.yaml: api.auto_registration.token:
environment variable REGISTRATION_TOKEN is not set …\`); a set but empty one is the empty text;
\`$\${\` writes a literal \`\${\`. \`notifications:\` keeps its own rule: its secrets are replaced when
notifications start, an empty variable is refused there, and \`$$\` is a literal \`$\`.

**Which store**: \`--db\` > \`VIGIL_DB\` > \`db:\` > the default data directory (\`$VIGIL_DATA_DIR\`, else
\`/var/lib/vigil\` as root, else \`\${XDG_DATA_HOME:-~/.local/share}/vigil\`). Only commands that write
(\`bouncers add\`, \`decisions add|import\`, \`allowlists create\`, \`import crowdsec\` without \`--dry-run\`, \`admin token|password\`, \`serve\`, \`watch\`) create a store, and
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

`;

/** The prose below the key tables: environment variables, and what `vigil serve` registers from them. */
const ENVIRONMENT_REGISTRATIONS = `## Other environment variables

| variable | meaning |
|---|---|
| \`VIGIL_CONFIG\` | the configuration file (as \`--config\`) |
| \`VIGIL_DATA_DIR\` | where the default store lives |
| \`VIGIL_SECRETS_DIR\` | where \`bouncer_key_<name>\` secrets are read (default \`/run/secrets\`) |
| \`VIGIL_BOUNCER_KEY\` and others named in \`\${…}\` | whatever your \`vigil.yaml\` references |

## Bouncers and an agent registered from the environment

As CrowdSec's container image does, \`vigil serve\` registers at start, before any key is checked:

| variable | what it does |
|---|---|
| \`BOUNCER_KEY_<name>=<key>\` | bouncer \`<name>\` with that API key: added when absent, given the new key when its key differs (its \`NAME@IP\` rows of the old key follow, so the old key opens nothing), left alone when it matches. CrowdSec's image skips a name that exists, so a rotated key was never applied there |
| \`BOUNCER_KEY_<name>_FILE=<path>\` | the same, the key read from that file (one trailing newline dropped) |
| \`/run/secrets/bouncer_key_<name>\` | Docker and Swarm secrets: one file per bouncer, the name after \`bouncer_key_\` (\`VIGIL_SECRETS_DIR\` moves the folder) |
| \`AGENT_USERNAME\` + \`AGENT_PASSWORD\` (or \`AGENT_PASSWORD_FILE\`) | a machine (the agent), added validated, or given this password when it changed (CrowdSec re-adds it with \`--force\` at every start) |

An empty variable registers nothing (a compose file's \`BOUNCER_KEY_X=\${UNSET}\`). A bad name or key, an
unreadable file, two different keys for one name, or a key another bouncer already uses stops the start
with the variable named; keys and passwords are stored hashed and never logged: the log says
\`bouncer 'fw' registered from BOUNCER_KEY_fw\` or \`given its new key\`. With several replicas each does the
same at its start; the store's unique names decide a race. Reading and checking them, without writing, is
\`readEnvRegistrations\` (src/config/env-registrations.ts), which a configuration test can call.

The forward-auth daemon (\`vigil bouncer forward-auth\`) has its own YAML: see [bouncer.md](bouncer.md).
`;

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

${CONFIG_INTRO}## Top-level keys

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

${ENVIRONMENT_REGISTRATIONS}`;
}
