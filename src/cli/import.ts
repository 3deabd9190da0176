import type { Command } from 'commander';
import { isVigilError, VigilError } from '../lib/errors.ts';
import { storeRole } from '../store/store-role.ts';
import { logLine } from './io.ts';
import { outputOption, type CommandContext, type OutputFormat } from './context.ts';

interface ImportOptions {
  crowdsecConfig?: string;
  crowdsecDb?: string;
  dryRun?: boolean;
  output: OutputFormat;
}

/**
 * `vigil import crowdsec`: switch an existing CrowdSec stack to `vigil serve` without touching a
 * bouncer or an agent. Keys, passwords, active decisions and allowlists move over; CrowdSec's
 * database is only read. `--dry-run` never creates a store (issue 29 item 5).
 */
export function registerImportCommands(program: Command, ctx: CommandContext): void {
  const imports = program.command('import').description('bring data from another system into Vigil');
  imports
    .command('crowdsec')
    .description("copy CrowdSec's bouncers (their keys keep working), machines (their passwords keep working) and active decisions into Vigil's store")
    .option('--crowdsec-config <file>', "CrowdSec's config.yaml, for its db_config (default /etc/crowdsec/config.yaml)")
    .option('--crowdsec-db <url>', "CrowdSec's database instead: sqlite:PATH, postgres://USER:PASSWORD@HOST:5432/DB or mysql://USER:PASSWORD@HOST:3306/DB")
    .option('--dry-run', 'say what would be imported, write nothing')
    .addOption(outputOption())
    .action(async (o: ImportOptions) => {
      const { DEFAULT_CROWDSEC_CONFIG, parseCrowdsecDbUrl, readCrowdsecConfig } = await import('../watch/crowdsec-config.ts');
      const { sourceFor } = await import('../watch/sources.ts');
      const { importCrowdsec } = await import('../watch/crowdsec-import.ts');
      if (o.crowdsecConfig !== undefined && o.crowdsecDb !== undefined) {
        throw new VigilError('E_USAGE', '--crowdsec-config and --crowdsec-db: give one or the other');
      }
      const db =
        o.crowdsecDb !== undefined ? parseCrowdsecDbUrl(o.crowdsecDb) : readCrowdsecConfig(o.crowdsecConfig ?? DEFAULT_CROWDSEC_CONFIG, process.env).db;
      const source = sourceFor(db);
      try {
        const run = () =>
          ctx.withStore(
            async (store) => {
              if ((await storeRole(store)) === 'watch') {
                throw new VigilError(
                  'E_STORE_ROLE',
                  `store ${store.description} is vigil watch's (a mirror of CrowdSec's bouncers): import into vigil serve's store (--db)`,
                );
              }
              return await importCrowdsec(source, store, ctx.io.clock.now(), { dryRun: o.dryRun });
            },
            { create: !o.dryRun },
          );
        let report: Awaited<ReturnType<typeof run>>;
        try {
          report = await run();
        } catch (e) {
          // A dry run on a fresh install (the first documented step) needs no store and makes none.
          if (!o.dryRun || !isVigilError(e) || e.code !== 'E_NO_STORE') throw e;
          ctx.io.stderr(logLine('info', `no Vigil store yet at ${ctx.config().db.replace(/^sqlite:/, '')}: everything counts as new; none was created`));
          report = await importCrowdsec(source, null, ctx.io.clock.now(), { dryRun: true });
        }
        if (o.output === 'json') {
          ctx.io.stdout(`${JSON.stringify({ dry_run: o.dryRun === true, from: source.description, ...report }, null, 2)}\n`);
          return;
        }
        const verb = o.dryRun ? 'would import' : 'imported';
        for (const line of report.skipped) ctx.io.stderr(logLine('warning', `skipped: ${line}`));
        ctx.io.stderr(
          logLine(
            'info',
            `${verb} from ${source.description}: ${report.bouncers.length} bouncer(s) with their keys, ${report.machines.length} machine(s) with their passwords, ${report.decisions} active decision(s)` +
              (report.allowlists.length > 0 ? `, ${report.allowlists.length} allowlist(s) with ${report.allowlistValues} new value(s)` : ''),
          ),
        );
        if (o.output === 'raw') for (const name of report.bouncers) ctx.io.stdout(`bouncer,${name}\n`);
        if (o.output === 'raw') for (const id of report.machines) ctx.io.stdout(`machine,${id}\n`);
        if (o.output === 'raw') for (const name of report.allowlists) ctx.io.stdout(`allowlist,${name}\n`);
      } finally {
        await source.close();
      }
    });
}
