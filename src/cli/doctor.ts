import fs from 'node:fs';
import type { CrowdsecKeys } from '../watch/crowdsec-keys.ts';
import path from 'node:path';
import { CommanderError, Option, type Command } from 'commander';
import { parseDuration } from '../lib/duration.ts';
import { DEFAULT_CONFIG_DIR, DEFAULT_CROWDSEC_CONFIG, runDoctor } from '../doctor/doctor.ts';
import { execHost, localHost, type Host } from '../doctor/host.ts';
import { formatDoctorHuman, formatDoctorJson } from '../core/doctor/report-format.ts';
import { usageError, VERSION, type CommandContext } from './context.ts';

interface DoctorFlags {
  dir: string;
  url?: string;
  key?: string;
  keyFile?: string;
  timeout: string;
  service?: string;
  serviceUser?: string;
  logFile?: string;
  nginxConfig?: string;
  serviceChecks: boolean;
  docker?: string;
  kubectl?: string;
  namespace?: string;
  container?: string;
  output: 'human' | 'json';
  verbose?: boolean;
  crowdsecConfig: string;
}

/** A failed check is not an error of the command: exit 1 quietly, the report says why. */
export const checksFailed = () => new CommanderError(1, 'vigil.checks-failed', '');

export function registerDoctorCommand(program: Command, ctx: CommandContext): void {
  program
    .command('doctor')
    .description('diagnose bouncers on this host: configuration, URL, network, Local API key, service and logs')
    .argument('[files...]', `bouncer configuration files (default: every *.yaml and *.conf in ${DEFAULT_CONFIG_DIR})`)
    .option('--dir <dir>', 'where to look for bouncer configurations', DEFAULT_CONFIG_DIR)
    .option('--url <url>', 'check this Local API URL instead of configuration files (with --key)')
    .option('--key <key>', 'the API key to check with --url (visible in ps: prefer --key-file)')
    .option('--key-file <file>', 'read the API key for --url from this file')
    .option('--timeout <duration>', 'time limit for each connection and each answer', '5s')
    .option('--service <name>', 'systemd unit / process of the bouncer, when not the one its file name suggests')
    .option('--service-user <user>', 'the user the bouncer reads its configuration as (default: root; www-data for web servers)')
    .option('--log-file <file>', 'log file to scan instead of the default one')
    .option('--nginx-config <file>', 'nginx main configuration to test (nginx -T -c FILE)')
    .option('--no-service-checks', 'skip the service, logs and web-server checks')
    .option('--docker <container>', 'look inside this Docker container (docker exec)')
    .option('--kubectl <pod>', 'look inside this Kubernetes pod (kubectl exec)')
    .option('-n, --namespace <ns>', 'namespace of --kubectl')
    .option('--container <name>', 'container of the --kubectl pod')
    .option(
      '--crowdsec-config <file>',
      "CrowdSec's config.yaml on this host: warns when its Local API was switched to Vigil while it keeps Console / Central API credentials, and names a refused key found in its database (registered with cscli, not with Vigil)",
      DEFAULT_CROWDSEC_CONFIG,
    )
    .addOption(new Option('-o, --output <format>', 'output format: human or json').choices(['human', 'json']).default('human'))
    .option('-v, --verbose', 'show the evidence of passing checks too')
    .addHelpText(
      'after',
      `
The global --config FILE names the bouncer configuration here (doctor needs no Vigil configuration).
Exit code 0 when every check passes (checks that could not be made are listed as "not checked"),
1 when one fails or warns.`,
    )
    .action(async (files: string[], o: DoctorFlags) => {
      const timeoutMs = parseDuration(o.timeout, '--timeout');
      if (timeoutMs <= 0) throw usageError(`--timeout "${o.timeout}": must be positive, e.g. 5s`);
      if (o.docker && o.kubectl) throw usageError('--docker and --kubectl: give one or the other');
      if ((o.key || o.keyFile) && !o.url) throw usageError('--key needs --url (the key of a configuration file is read from the file)');
      const globalConfig = program.opts<{ config?: string }>().config;
      const configFiles = [...(globalConfig ? [globalConfig] : []), ...files].map((f) => (o.docker || o.kubectl ? f : path.resolve(ctx.io.cwd, f)));
      if (o.url && configFiles.length) throw usageError('--url checks a Local API without a file: do not combine it with configuration files');
      let key = o.key;
      if (o.keyFile) {
        try {
          key = fs.readFileSync(path.resolve(ctx.io.cwd, o.keyFile), 'utf8').trim();
        } catch (e) {
          throw usageError(`--key-file ${o.keyFile}: ${(e as Error).message}`);
        }
      }
      const host: Host = o.docker
        ? execHost('docker', { name: o.docker })
        : o.kubectl
          ? execHost('kubectl', { name: o.kubectl, namespace: o.namespace, container: o.container })
          : localHost();
      // Loaded here: the database drivers would slow every other command's start.
      const { readCrowdsecKeys } = await import('../watch/crowdsec-keys.ts');
      let crowdsecKeys: Promise<CrowdsecKeys> | undefined;
      const report = await runDoctor({
        host,
        configFiles,
        configDir: o.dir,
        url: o.url,
        key,
        timeouts: { connectMs: timeoutMs, answerMs: timeoutMs },
        checkService: o.serviceChecks && !o.url,
        service: o.service,
        serviceUser: o.serviceUser,
        logFile: o.logFile,
        nginxConfig: o.nginxConfig,
        userAgent: `vigil-doctor/${VERSION}`,
        crowdsecConfig: o.crowdsecConfig,
        // Read once, only if a key is refused.
        crowdsecKeys: () => (crowdsecKeys ??= readCrowdsecKeys(path.resolve(ctx.io.cwd, o.crowdsecConfig), ctx.io.env)),
      });
      ctx.io.stdout(o.output === 'json' ? formatDoctorJson(report) : formatDoctorHuman(report, { color: ctx.io.isTTY, verbose: o.verbose }));
      if (!report.passed) throw checksFailed();
    });
}
