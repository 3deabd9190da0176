import { code, raw, sh, shellQuote } from './quoting.ts';
import type { Profile } from './profile.ts';
import { profileFor } from './profile-for.ts';
import type { Deployment, RunbookContext } from './types.ts';

// ---------------------------------------------------------------------------------------------
// The context the steps read: values filled in, prefixes built once.

export interface Env {
  ctx: RunbookContext;
  p: Profile;
  cli: 'vigil' | 'cscli';
  /** Where the bouncer runs. */
  where: Deployment;
  /** The URL the bouncer should use (a wildcard listen address becomes `<lapi-host>`). */
  url: string;
  host: string;
  port: string;
  scheme: string;
}

export function parseLapi(lapiUrl: string): { url: string; host: string; port: string; scheme: string } {
  let u: URL;
  try {
    u = new URL(lapiUrl);
  } catch {
    return { url: lapiUrl, host: '<lapi-host>', port: '8080', scheme: 'http' };
  }
  const scheme = u.protocol.replace(/:$/, '');
  const port = u.port || (scheme === 'https' ? '443' : '80');
  let host = u.hostname.replace(/^\[|\]$/g, '');
  // A wildcard listen address is where the LAPI listens, not where a bouncer can reach it.
  if (host === '0.0.0.0' || host === '::') host = '<lapi-host>';
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return { url: `${scheme}://${hostInUrl}${u.port ? `:${u.port}` : ''}${path}`, host, port, scheme };
}

export function envFor(ctx: RunbookContext): Env {
  const p = profileFor(ctx.family, ctx.bouncerType);
  const lapi = parseLapi(ctx.lapiUrl);
  return { ctx, p, cli: ctx.cli ?? 'vigil', where: p.runsOn ?? ctx.deployment, ...lapi };
}

/** A command run where the Local API's bouncer-management CLI lives. `args` must already be shell-safe. */
export function lapiCmd(e: Env, args: string): string {
  const bin = e.cli;
  switch (e.ctx.deployment) {
    case 'host':
      return `sudo ${bin} ${args}`;
    case 'docker':
      return sh`docker exec ${e.ctx.container ?? 'crowdsec'} ${raw(bin)} ${raw(args)}`;
    case 'kubernetes': {
      const ns = e.ctx.namespace ?? 'crowdsec';
      return sh`kubectl exec -n ${ns} -it $(kubectl get pods -n ${ns} -l type=lapi -o name) -- ${raw(bin)} ${raw(args)}`;
    }
  }
}

/** `bouncers add`-style argument: `--` first when a name could pass for an option. */
export const nameArg = (name: string): string => (name.startsWith('-') ? `-- ${shellQuote(name)}` : shellQuote(name));

export const k8sOf = (e: Env) => e.p.k8s ?? { namespace: '<bouncer-namespace>', pod: '<bouncer-pod>', deployment: '<bouncer-deployment>' };

/** A host command (written with `sudo` where the host needs it) moved to where the bouncer runs. */
export function inBouncer(e: Env, hostCommand: string): string {
  const bare = hostCommand.replace(/^sudo /, '');
  if (e.p.windows) return hostCommand;
  switch (e.where) {
    case 'host':
      // Without systemd, the init scripts (service(8)) restart and reload web servers.
      return withoutSystemd(e) ? hostCommand.replace(/^sudo systemctl (restart|reload) (\S+)$/, 'sudo service $2 $1') : hostCommand;
    case 'docker':
      return `docker exec <bouncer-container> ${bare}`;
    case 'kubernetes': {
      const k = k8sOf(e);
      return `kubectl exec -n ${k.namespace} ${k.pod} -- ${bare}`;
    }
  }
}

/** On the host, with no systemd to ask (doctor's finding, recorded by `vigil serve`). */
export const withoutSystemd = (e: Env): boolean => e.where === 'host' && !e.p.windows && e.ctx.serviceManager === 'none';

export interface ServiceOps {
  status: string[];
  restart: string[];
  enable: string[];
  logs: string[];
}

/**
 * A host without systemd: find the process by its command line, start a daemon by hand with its
 * config (its output to a log file when it keeps no log of its own), restart a web server through
 * its init script, read log files.
 */
function processOps(e: Env): ServiceOps {
  const p = e.p;
  const daemon = p.runtime === 'daemon' && p.binary !== undefined;
  const name = daemon ? (p.binary as string) : p.unit;
  const ownLog = p.logs.length === 0 && daemon ? `/var/log/${p.unit}.log` : undefined;
  const launch = daemon
    ? [sh`sudo pkill -f ${name}`, sh`sudo nohup ${raw(name)} -c ${p.configPath} ${raw(ownLog ? `>>${shellQuote(ownLog)}` : '>/dev/null')} 2>&1 &`]
    : [sh`sudo service ${p.unit} restart`];
  return {
    status: [sh`pgrep -af ${name}`],
    restart: launch,
    enable: [],
    logs: [...p.logs, ...(ownLog ? [ownLog] : [])].map((f) => sh`sudo tail -50 ${f}`),
  };
}

/** The bouncer's own service: status, restart, enable, logs, in its environment. */
export function serviceOps(e: Env): ServiceOps {
  const unit = e.p.unit;
  if (withoutSystemd(e)) return processOps(e);
  if (e.p.windows) {
    return {
      status: [sh`Get-Service ${unit}`],
      restart: [sh`Restart-Service ${unit}`],
      enable: [sh`Set-Service ${unit} -StartupType Automatic`],
      logs: ['Get-ChildItem C:\\ProgramData\\CrowdSec\\logs\\ | Sort-Object LastWriteTime | Select-Object -Last 3'],
    };
  }
  switch (e.where) {
    case 'host':
      return {
        status: [sh`sudo systemctl status ${unit}`],
        restart: [sh`sudo systemctl restart ${unit}`],
        enable: [sh`sudo systemctl enable ${unit}`],
        logs: [sh`sudo journalctl -u ${unit} -n 50`, ...e.p.logs.map((f) => sh`sudo tail -50 ${f}`)],
      };
    case 'docker':
      return {
        status: ['docker ps -a --filter name=<bouncer-container>'],
        restart: ['docker restart <bouncer-container>'],
        enable: ['docker update --restart unless-stopped <bouncer-container>'],
        logs: ['docker logs --tail 50 <bouncer-container>'],
      };
    case 'kubernetes': {
      const k = k8sOf(e);
      return {
        status: [`kubectl get pods -n ${k.namespace}`],
        restart: [`kubectl rollout restart deployment/${k.deployment} -n ${k.namespace}`],
        enable: [],
        logs: [`kubectl logs ${k.pod} -n ${k.namespace} --tail=50`],
      };
    }
  }
}

export function urlFor(e: Env): string {
  return e.p.trailingSlash ? e.url : e.url.replace(/\/$/, '');
}

export function fillLine(e: Env, line: string): string {
  const hostport = `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
  // Functions, not strings, as replacements: a `$&` in a URL must stay as it is.
  return line
    .replace('{url}', () => urlFor(e))
    .replace('{hostport}', () => hostport)
    .replace('{scheme}', () => e.scheme);
}

/** `<binary> -c <config> -t` where the bouncer has it, run where it runs. */
export function selfTest(e: Env): string | undefined {
  return e.p.selfTest && e.p.binary ? inBouncer(e, sh`sudo ${raw(e.p.binary)} -c ${e.p.configPath} -t`) : undefined;
}

/** The URL line as the operator writes it, with where it goes when not in the bouncer's own file. */
export function urlSetting(e: Env): string {
  return code(fillLine(e, e.p.urlLine)) + (e.p.urlWhere ? ` ${e.p.urlWhere.text}` : '');
}

/** Show the URL and key lines as the bouncer reads them. */
export function showConfig(e: Env): string[] {
  const p = e.p;
  if (p.id === 'wordpress') return [inBouncer(e, 'wp option get crowdsec_api_url'), inBouncer(e, 'wp option get crowdsec_api_key')];
  if (p.windows) return [sh`Select-String -Path ${p.configPath} -Pattern ${p.keysPattern}`];
  if (p.id === 'traefik-plugin') return [inBouncer(e, sh`sudo grep -rnE ${p.keysPattern} /etc/traefik/`)];
  const files = p.localOverride ? sh`${p.configPath} ${p.configPath + '.local'}` : sh`${p.configPath}`;
  const out = [inBouncer(e, sh`sudo grep -snE ${p.keysPattern} ${raw(files)}`)];
  if (p.id === 'haproxy-lua') out.push(inBouncer(e, "sudo grep -nA3 'backend crowdsec' /etc/haproxy/haproxy.cfg"));
  const test = selfTest(e);
  if (test) out.push(test);
  return out;
}

/**
 * How to change the config where the bouncer runs: `where` completes "set it …", then the commands;
 * `restarts` when those commands already restart the bouncer.
 */
export function editConfig(e: Env): { where: string; commands: string[]; restarts: boolean } {
  const p = e.p;
  // WordPress reads its options on each request; the helm upgrade rolls the controller.
  if (p.setKey) return { where: p.setKey.where, commands: p.setKey.commands.map((c) => inBouncer(e, c)), restarts: true };
  if (p.windows) return { where: `in ${code(p.configPath)} (as Administrator)`, commands: [sh`notepad ${p.configPath}`], restarts: false };
  switch (e.where) {
    case 'host':
      return p.id === 'traefik-plugin'
        ? {
            where: 'in the file that defines the crowdsec middleware (under `/etc/traefik/`)',
            commands: ["sudo grep -rln 'crowdsecLapi' /etc/traefik/"],
            restarts: false,
          }
        : { where: `in ${code(p.configPath)}`, commands: [sh`sudo nano ${p.configPath}`], restarts: false };
    case 'docker':
      return {
        where: `on the Docker host, in the file mounted as ${code(p.configPath)} or the docker-compose.yml variable that fills it, then recreate the container`,
        commands: ['docker compose up -d --force-recreate <bouncer-service>'],
        restarts: true,
      };
    case 'kubernetes': {
      const k = k8sOf(e);
      return {
        where: 'in the Secret or Helm values that hold it, then restart the bouncer',
        commands: [`kubectl edit secret <bouncer-secret> -n ${k.namespace}`, `kubectl rollout restart deployment/${k.deployment} -n ${k.namespace}`],
        restarts: true,
      };
    }
  }
}
