import { Command, CommanderError } from 'commander';
import { isVigilError } from '../lib/errors.ts';
import { loadConfig, type ConfigFlags, type VigilConfig } from '../config/config.ts';
import { Store } from '../store/store.ts';
import { readableByOthersMessage } from '../store/dialects/sqlite.ts';
import { redactUrl } from '../lib/redact-url.ts';
import { refuseStoreLostUnderServe } from '../app/run-file.ts';
import type { CliIo } from './io.ts';
import { VERSION, type CommandContext } from './context.ts';
import { logLine } from './io.ts';
import { registerBouncerCommands } from './bouncers.ts';
import { registerBouncerDaemonCommands } from './bouncer.ts';
import { registerMachineCommands } from './machines.ts';
import { registerDecisionCommands } from './decisions.ts';
import { registerServeCommand } from './serve.ts';
import { registerReloadCommand } from './reload.ts';
import { registerIssueCommands } from './issues.ts';
import { registerAdminCommands } from './admin.ts';
import { registerWatchCommand } from './watch.ts';
import { registerNotifyCommands } from './notify.ts';
import { registerDoctorCommand } from './doctor.ts';
import { registerVerifyCommand } from './verify.ts';
import { registerImportCommands } from './import.ts';
import { registerAllowlistCommands } from './allowlists.ts';
import { registerExportCommands } from './export.ts';

/** How long a command's write waits for vigil serve's transaction on a SQLite store (store/database.ts). */
const CLI_BUSY_TIMEOUT_MS = 30_000;

/**
 * The CLI's single entry point: parses `argv` (without node and script), runs the command, and
 * returns the exit code. Errors are caught here only: one line on stderr, exit 1.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const program = new Command('vigil')
    .description('A CrowdSec-compatible Local API that notices when remediation silently stops.')
    .version(VERSION, '--version')
    .option('-c, --config <file>', 'configuration file (default ./vigil.yaml when present; env VIGIL_CONFIG)')
    .option('--db <url>', 'store: sqlite:PATH or postgres://… (env VIGIL_DB)')
    .option('--log-level <level>', 'trace, debug, info, warn, error (env VIGIL_LOG_LEVEL)')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(logLine('fatal', explainUsage(s.replace(/^error: /, '').trim(), argv))),
    });

  const globalFlags = (): ConfigFlags => {
    const o = program.opts<{ config?: string; db?: string; logLevel?: string }>();
    return { config: o.config, db: o.db, logLevel: o.logLevel };
  };
  let cached: VigilConfig | undefined;
  const ctx: CommandContext = {
    io,
    config: () => (cached ??= loadConfig({ flags: globalFlags(), env: io.env, cwd: io.cwd })),
    async withStore(fn, opts = {}) {
      const config = ctx.config();
      refuseStoreLostUnderServe(config, io.env, io.cwd);
      // Readable by others: the secrets are exposed already and the CLI uses none of them, so it
      // warns and carries on; serve and watch, which sign sessions with them, refuse to start.
      const store = await Store.open(config.db, {
        create: opts.create === true,
        source: config.dbSource,
        othersCanRead: 'report',
        busyTimeoutMs: CLI_BUSY_TIMEOUT_MS,
      });
      if (store.created) io.stderr(logLine('info', `created a new store at ${store.description.replace(/^sqlite:/, '')}`));
      if (store.readableByOthers.length > 0) {
        const file = store.description.replace(/^sqlite:/, '');
        io.stderr(logLine('warning', `${readableByOthersMessage(file, store.readableByOthers)} (vigil serve refuses to start until then)`));
      }
      try {
        return await fn(store);
      } finally {
        await store.close();
      }
    },
  };

  registerServeCommand(program, ctx, globalFlags);
  registerReloadCommand(program, ctx);
  registerBouncerCommands(program, ctx);
  registerBouncerDaemonCommands(program, ctx);
  registerMachineCommands(program, ctx);
  registerDecisionCommands(program, ctx);
  registerIssueCommands(program, ctx);
  registerAdminCommands(program, ctx);
  registerWatchCommand(program, ctx, globalFlags);
  registerNotifyCommands(program, ctx);
  registerDoctorCommand(program, ctx);
  registerVerifyCommand(program, ctx);
  registerImportCommands(program, ctx);
  registerAllowlistCommands(program, ctx);
  registerExportCommands(program, ctx);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, successfully.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 1;
    }
    // Messages are written to hold no password; redactUrl is the second net (a driver's own text).
    if (isVigilError(e)) {
      io.stderr(logLine('fatal', redactUrl(e.message)));
      return 1;
    }
    io.stderr(logLine('fatal', redactUrl(`unexpected error: ${(e as Error)?.message ?? String(e)}`)));
    return 1;
  }
}

/**
 * commander's "unknown option '-x'" for what is often a name or a value that starts with '-'
 * (`vigil bouncers add -x`): say which argument it was and the two ways out.
 */
export function explainUsage(message: string, argv: string[]): string {
  const m = /^unknown option '([^']+)'/.exec(message);
  if (!m || m[1]!.startsWith('--')) return message;
  // The command words before it, without options and their values (`--db URL`).
  const words: string[] = [];
  const before = argv.slice(0, Math.max(0, argv.indexOf(m[1]!)));
  for (let i = 0; i < before.length; i++) {
    if (before[i]!.startsWith('-')) {
      if (!before[i]!.includes('=')) i++;
    } else words.push(before[i]!);
  }
  const example = `vigil ${[...words, '--', m[1]!].join(' ')}`;
  return `${message}: if '${m[1]}' is a name or a value, not an option, put it after -- (${example}); bouncer names start with a letter or digit; see --help for the options`;
}
