/**
 * The boundaries of src/ (`npm run lint`, run by CI), so the layers stay visible:
 * - src/lib/: small generic helpers (they may touch files or sockets); import nothing else of Vigil's.
 * - src/core/: the domain (model, health evaluation, runbooks, decision matching, notification
 *   planning, doctor checks): pure, no I/O; imports only core/ and lib/ and no driver or server.
 * - presentation/ renders core's data for people (terminal colours, Markdown): the first adapter,
 *   so notifications, the dashboard and the CLI all share it.
 * - every other folder is an adapter; an adapter imports core/, lib/ and the adapters listed
 *   BEFORE it in ADAPTERS, never one after it, so no two adapters import each other. app/ holds
 *   the composition roots (`vigil serve` as a running process), above everything but the CLI.
 * - no import cycle between files (type-only imports aside).
 * - only src/store/ imports kysely: every query of Vigil's own store lives there.
 */
const ADAPTERS = ['presentation', 'store', 'decisions', 'health', 'notify', 'remediation', 'config', 'doctor', 'canary', 'server', 'web', 'watch', 'app', 'cli'];

const layering = ADAPTERS.map((name, i) => ({
  name: `adapter-order-${name}`,
  comment: `${name}/ may import only core/, lib/ and ${ADAPTERS.slice(0, i).join(', ') || 'no other adapter'} (see ADAPTERS in .dependency-cruiser.cjs)`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: `^src/(${ADAPTERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: split the shared piece into its own module (a cycle of type-only imports is allowed: it is erased at run time)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'lib-is-generic',
      comment: 'src/lib/ holds generic helpers: it imports nothing else of Vigil',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'core-imports-core-and-lib',
      comment: 'src/core/ is the pure domain: it imports only core/ and lib/',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/(core|lib)/' },
    },
    {
      name: 'core-has-no-io',
      comment: 'src/core/ does no I/O: no file system, network, process, database or server module',
      severity: 'error',
      from: { path: '^src/core/' },
      to: {
        path: '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dns|dgram|child_process|cluster|worker_threads)$|(^|/)node_modules/(pg|better-sqlite3|kysely|mysql2|hono|@hono|pino|prom-client|nodemailer|commander)/',
      },
    },
    {
      name: 'sql-lives-in-store',
      comment: 'queries live in src/store/ (one owner for SQL): add a repository function there instead of importing kysely',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: '(^|/)node_modules/kysely/' },
    },
    {
      name: 'store-handle-stays-in-store',
      comment: "a Store's Kysely handle (store-db.ts) is for src/store/'s repositories only",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: '^src/store/store-db\\.ts$' },
    },
    ...layering,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no compiler API yet; swc parses our erasable TypeScript.
    parser: 'swc',
  },
};
