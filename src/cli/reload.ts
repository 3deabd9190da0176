import type { Command } from 'commander';
import { isVigilError, VigilError } from '../lib/errors.ts';
import type { CommandContext } from './context.ts';

/** How long `vigil reload` waits for serve to say how its reload went. */
const WAIT_MS = 15_000;

/**
 * `vigil reload`: finds the running `vigil serve` through its run file (beside the store, so the
 * same --config/--db finds it), sends it SIGHUP, and waits for the outcome it records there.
 * Exit 0 when applied; one line and exit 1 when refused or when no serve answers.
 */
export function registerReloadCommand(program: Command, ctx: CommandContext): void {
  program
    .command('reload')
    .description("re-read vigil.yaml in the running 'vigil serve' (as SIGHUP does) and say whether it was applied")
    .action(async () => {
      let config: ReturnType<typeof ctx.config>;
      try {
        config = ctx.config();
      } catch (e) {
        // The file serve would read does not load: say why here; serve is not asked and keeps running as it is.
        if (isVigilError(e)) throw new VigilError('E_RELOAD', `${e.message} (not reloaded: vigil serve keeps its running configuration)`);
        throw e;
      }
      const { runFilePath, readRunFile } = await import('../app/run-file.ts');
      const file = runFilePath(config, ctx.io.env, ctx.io.cwd);
      const before = readRunFile(file);
      if (!before) throw new VigilError('E_RELOAD', `no running vigil serve found: ${file} is missing; start serve, or pass the same --config/--db it uses`);
      try {
        process.kill(before.pid, 'SIGHUP');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new VigilError(
          'E_RELOAD',
          code === 'ESRCH'
            ? `vigil serve (pid ${before.pid}, from ${file}) is not running: start it again`
            : `cannot signal vigil serve (pid ${before.pid}): ${code ?? (e as Error).message}; run vigil reload as the user serve runs as`,
        );
      }
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const now = readRunFile(file);
        if (now && now.pid === before.pid && now.reload.seq > before.reload.seq) {
          if (!now.reload.applied) throw new VigilError('E_RELOAD', now.reload.message ?? 'reload refused');
          ctx.io.stdout(`${now.reload.message}\n`);
          return;
        }
        if (Date.now() > deadline) {
          throw new VigilError('E_RELOAD', `vigil serve (pid ${before.pid}) did not report a reload within ${WAIT_MS / 1000}s; see its log`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
}
