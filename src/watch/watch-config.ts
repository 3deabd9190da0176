/**
 * `vigil watch`'s settings: the `watch:` block of vigil.yaml, `VIGIL_WATCH_*` variables and the
 * command's flags, with the usual precedence (flags > environment > file > defaults), resolved into
 * one source and the runbook context. Pure apart from reading CrowdSec's config file.
 */
import path from 'node:path';
import { VigilError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import { parseListen, type ListenAddress } from '../lib/listen-address.ts';
import { DEPLOYMENTS, type Deployment } from '../core/health/runbooks/index.ts';
import { DEFAULT_CROWDSEC_CONFIG, describeDb, parseCrowdsecDbUrl, readCrowdsecConfig, type CrowdsecDbLocation } from './crowdsec-config.ts';
import { shellWords } from './shell-words.ts';
import { runbookPlaceFromCommand } from './deployment.ts';
import type { WatchFileSection } from '../config/watch-file-schema.ts';
import type { LapiLogSpec } from './lapi-log.ts';

export type { WatchFileSection };

export interface WatchFlags {
  crowdsecConfig?: string;
  crowdsecDb?: string;
  cscli?: string;
  pollEvery?: string;
  listen?: string;
  lapiUrl?: string;
  deployment?: string;
  accessLog?: string;
  prometheusUrl?: string;
}

export type WatchSourceSpec = { type: 'db'; db: CrowdsecDbLocation; from: string } | { type: 'cscli'; command: string[]; from: string };

export interface WatchSettings {
  source: WatchSourceSpec;
  pollEveryMs: number;
  /** Admin API, /metrics and /health; null when off. */
  listen: ListenAddress | null;
  /** For runbooks: where bouncers reach CrowdSec's Local API, and how to run cscli there. */
  runbook: { lapiUrl: string; deployment: Deployment; container?: string; namespace?: string };
  /** True when the Local API URL is the default guess (no flag, no CrowdSec config): the cscli source may ask cscli. */
  lapiUrlIsDefault: boolean;
  /** CrowdSec's Local API log (access log and main log, or journald); null when off. */
  lapiLog?: LapiLogSpec | null;
  /** CrowdSec's Prometheus endpoint; null when off. */
  prometheusUrl?: string | null;
  /** CrowdSec's config file when it was read (re-read each poll for `api.server.enable`); null otherwise. */
  crowdsecConfigPath?: string | null;
}

export const DEFAULT_WATCH_LISTEN = '127.0.0.1:6070';
/** 10 s: a poll of 1,000 bouncers costs about 30 ms (npm run bench:watch), and it bounds the time to know. */
export const DEFAULT_POLL_EVERY = '10s';

export function resolveWatchSettings(opts: {
  flags: WatchFlags;
  file: WatchFileSection | undefined;
  configFile: string | null;
  env: NodeJS.ProcessEnv;
  cwd: string;
}): WatchSettings {
  const { flags, env } = opts;
  const file = opts.file ?? {};
  const pick = (key: keyof WatchFileSection, flag: string | undefined): { value: string | undefined; where: string } => {
    const envName = `VIGIL_WATCH_${key.toUpperCase()}`;
    if (flag !== undefined) return { value: flag, where: `--${key.replace(/_/g, '-')}` };
    if (env[envName]) return { value: env[envName], where: envName };
    return { value: file[key], where: `${opts.configFile ?? 'vigil.yaml'}: watch.${key}` };
  };

  const cscli = pick('cscli', flags.cscli);
  const dbUrl = pick('crowdsec_db', flags.crowdsecDb);
  const csConfig = pick('crowdsec_config', flags.crowdsecConfig);
  if (cscli.value !== undefined && dbUrl.value !== undefined && cscli.where.startsWith('--') && dbUrl.where.startsWith('--')) {
    throw new VigilError('E_USAGE', '--cscli and --crowdsec-db both given: watch reads one source; keep one of them');
  }

  // CrowdSec's config file: the database (unless given otherwise) and the Local API's URL.
  const configPath = path.resolve(opts.cwd, csConfig.value ?? DEFAULT_CROWDSEC_CONFIG);
  const needConfig = cscli.value === undefined && dbUrl.value === undefined;
  let fromConfig: ReturnType<typeof readCrowdsecConfig> | undefined;
  if (needConfig) fromConfig = readCrowdsecConfig(configPath, env);
  else if (csConfig.value !== undefined) fromConfig = readCrowdsecConfig(configPath, env);

  let source: WatchSourceSpec;
  if (cscli.value !== undefined) source = { type: 'cscli', command: shellWords(cscli.value, cscli.where), from: cscli.where };
  else if (dbUrl.value !== undefined) source = { type: 'db', db: parseCrowdsecDbUrl(dbUrl.value, dbUrl.where), from: dbUrl.where };
  else source = { type: 'db', db: fromConfig!.db, from: `${configPath} (db_config)` };
  if (source.type === 'db' && source.db.type === 'sqlite') source.db = { type: 'sqlite', path: path.resolve(opts.cwd, source.db.path) };

  const poll = pick('poll_every', flags.pollEvery);
  const pollEveryMs = parseDuration(poll.value ?? DEFAULT_POLL_EVERY, poll.where);
  if (pollEveryMs < 100) throw new VigilError('E_CONFIG', `${poll.where} "${poll.value}": poll at most every 100ms, e.g. 30s`);

  const listenOpt = pick('listen', flags.listen);
  const listen = listenOpt.value === 'off' ? null : parseListen(listenOpt.value ?? DEFAULT_WATCH_LISTEN, listenOpt.where);

  const lapi = pick('lapi_url', flags.lapiUrl);
  let lapiUrl = lapi.value ?? fromConfig?.lapiUrl ?? 'http://127.0.0.1:8080/';
  try {
    const u = new URL(lapiUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new VigilError('E_CONFIG', `${lapi.where} "${lapiUrl}": use the URL bouncers reach CrowdSec's Local API at, e.g. http://127.0.0.1:8080/`);
  }
  if (!lapiUrl.endsWith('/')) lapiUrl += '/';

  // Where the runbooks run cscli: from the command prefix (docker exec NAME, kubectl exec -n NS), else the host.
  const place = source.type === 'cscli' ? runbookPlaceFromCommand(source.command) : { deployment: 'host' as Deployment };
  const dep = pick('deployment', flags.deployment);
  if (dep.value !== undefined && !(DEPLOYMENTS as readonly string[]).includes(dep.value)) {
    throw new VigilError('E_USAGE', `${dep.where} "${dep.value}": use host, docker or kubernetes`);
  }
  const deployment = (dep.value as Deployment | undefined) ?? place.deployment;
  const lapiLog = resolveLapiLog(pick('access_log', flags.accessLog), fromConfig, configPath, opts.cwd);
  const prometheusUrl = resolvePrometheusUrl(pick('prometheus_url', flags.prometheusUrl), fromConfig);
  return {
    lapiLog,
    prometheusUrl,
    crowdsecConfigPath: fromConfig ? configPath : null,
    source,
    pollEveryMs,
    listen,
    lapiUrlIsDefault: lapi.value === undefined && !fromConfig?.lapiUrl,
    runbook: { lapiUrl, deployment, ...(place.container ? { container: place.container } : {}), ...(place.namespace ? { namespace: place.namespace } : {}) },
  };
}

/**
 * The access log: given (a path, `journald[:UNIT]`, `off`), else where CrowdSec's config says it
 * logs: `log_media: file` → `<log_dir>/crowdsec_api.log` (and crowdsec.log beside it);
 * `log_media: stdout` → journald's `crowdsec` unit, but only for the system's config
 * (/etc/crowdsec/config.yaml is what systemd's unit runs; another config is another CrowdSec).
 * Without CrowdSec's config (`--crowdsec-db`, `--cscli` alone): off, since this host's /var/log may
 * be another CrowdSec's. A default that does not exist here is skipped at start (start-watch.ts).
 */
function resolveLapiLog(
  opt: { value: string | undefined; where: string },
  fromConfig: ReturnType<typeof readCrowdsecConfig> | undefined,
  configPath: string,
  cwd: string,
): LapiLogSpec | null {
  const v = opt.value?.trim();
  if (v === 'off') return null;
  if (v !== undefined) {
    if (v === '') throw new VigilError('E_CONFIG', `${opt.where} "": give the access log's path (e.g. /var/log/crowdsec_api.log), journald[:UNIT] or off`);
    const j = /^journald(?::(.+))?$/.exec(v);
    if (j) return { type: 'journald', unit: j[1] ?? 'crowdsec', from: opt.where, explicit: true };
    const file = path.resolve(cwd, v);
    return { type: 'file', accessLog: file, mainLog: path.join(path.dirname(file), 'crowdsec.log'), from: opt.where, explicit: true };
  }
  if (fromConfig) {
    const where = `${configPath} (common.log_media: ${fromConfig.logs.media})`;
    if (fromConfig.logs.media === 'file') {
      const dir = path.resolve(cwd, fromConfig.logs.dir);
      return { type: 'file', accessLog: path.join(dir, 'crowdsec_api.log'), mainLog: path.join(dir, 'crowdsec.log'), from: where, explicit: false };
    }
    return configPath === DEFAULT_CROWDSEC_CONFIG ? { type: 'journald', unit: 'crowdsec', from: where, explicit: false } : null;
  }
  // --crowdsec-db or --cscli without CrowdSec's config: this host's /var/log may be another CrowdSec's
  // (a container's LAPI logs elsewhere); say where with --access-log.
  return null;
}

function resolvePrometheusUrl(opt: { value: string | undefined; where: string }, fromConfig: ReturnType<typeof readCrowdsecConfig> | undefined): string | null {
  const v = opt.value?.trim();
  if (v === 'off') return null;
  if (v === undefined) return fromConfig?.prometheusUrl ?? null;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new VigilError('E_CONFIG', `${opt.where} "${v}": use CrowdSec's metrics URL, e.g. http://127.0.0.1:6060/metrics, or off`);
  }
  return v;
}

export function describeSource(s: WatchSourceSpec): string {
  return s.type === 'db' ? describeDb(s.db) : `'${[...s.command, 'bouncers', 'list', '-o', 'json'].join(' ')}'`;
}
