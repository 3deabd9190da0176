import { code, raw, sh } from './quoting.ts';
import type { Runtime } from './profile.ts';
import { editConfig, type Env, inBouncer, lapiCmd, nameArg, selfTest, serviceOps, showConfig, urlSetting, withoutSystemd } from './env.ts';
import type { RunbookStep } from './types.ts';

// ---------------------------------------------------------------------------------------------
// The steps (the seed's, in its order), each a function of the context; null when not applicable.

export type StepId =
  | 'registration'
  | 'service'
  | 'module'
  | 'logs'
  | 'connectivity'
  | 'keyTest'
  | 'config'
  | 'reconnect'
  | 'configureKey'
  | 'restart'
  | 'rekey'
  | 'network'
  | 'enableModule'
  | 'fixConfig'
  | 'permissions';

export type StepFn = (e: Env) => RunbookStep | null;

const decisionsProbeUrl = (e: Env): string => `${e.url}v1/decisions`;

/** Reachability of the Local API from where the bouncer runs (PowerShell has no nc, and its `curl` is another command). */
function reachCommands(e: Env): string[] {
  return e.p.windows ? [sh`Test-NetConnection ${e.host} -Port ${e.port}`, sh`curl.exe -I ${e.url}`] : [sh`nc -zv ${e.host} ${e.port}`, sh`curl -I ${e.url}`];
}

export const DIAGNOSE: Partial<Record<StepId, StepFn>> = {
  registration: (e) => ({
    text: `Check ${code(e.ctx.bouncerName)} in the bouncer list on the Local API: is it listed, is it valid (✔️, not revoked), and how old is its "Last API pull"?`,
    commands: [lapiCmd(e, 'bouncers list'), ...(e.cli === 'vigil' ? [lapiCmd(e, `bouncers inspect ${nameArg(e.ctx.bouncerName)}`)] : [])],
  }),
  service: (e) => {
    const ops = serviceOps(e);
    const text: Record<Runtime, string> = {
      webserver: `Check that ${code(e.p.unit)} runs and that its configuration is valid (the bouncer lives inside it):`,
      app: `Check that PHP (${code(e.p.unit)}) runs the site the bouncer protects:`,
      daemon: `Check that the ${e.p.label} (${code(e.p.unit)}) is running:`,
    };
    return {
      text: text[e.p.runtime],
      commands: [...ops.status, ...(e.p.syntaxCheck ?? []).map((c) => inBouncer(e, c))],
    };
  },
  module: (e) =>
    e.p.moduleCheck ? { text: e.p.moduleCheck.text, commands: e.p.moduleCheck.commands.map((c) => (e.p.runsOn === 'kubernetes' ? c : inBouncer(e, c))) } : null,
  logs: (e) => ({
    text: 'Read its recent logs. `connection refused` or a timeout: the Local API is unreachable. `401`/`403` or `API error: access forbidden`: the key is refused. `module not loaded`: the integration is not enabled. `invalid configuration`: the config file.',
    commands: serviceOps(e).logs,
  }),
  connectivity: (e) => ({
    text: `From where the bouncer runs, test that the Local API answers at ${code(e.url)}:`,
    commands: reachCommands(e),
  }),
  // HEAD: it checks the key without counting as a pull (which would make the issue look resolved)
  // and, on CrowdSec ≥ 1.6.4, without creating a `name@ip` entry when run from another address.
  keyTest: (e) => ({
    text: 'From where the bouncer runs, test its key (the one in its config): 200 means the key works; 403 means the Local API does not know it (wrong, regenerated, revoked, or the bouncer was deleted).',
    commands: [
      sh`${raw(e.p.windows ? 'curl.exe' : 'curl')} -s -o ${raw(e.p.windows ? 'NUL' : '/dev/null')} -I -w '%{http_code}\n' -H 'X-Api-Key: <paste-api-key>' ${decisionsProbeUrl(e)}`,
    ],
  }),
  config: (e) => {
    const never = e.ctx.cause === 'never_pulled';
    const lead = never
      ? 'Check that the key given when it was registered was actually put in its config (not left empty or as `${API_KEY}`):'
      : `Check the URL and key it uses: the URL should be ${urlSetting(e)}${e.p.trailingSlash ? ' (with the trailing `/`)' : ''}, and the key must not be empty or a leftover \`\${API_KEY}\`.`;
    const local = e.p.localOverride ? ` Values in ${code(e.p.configPath + '.local')} override the main file.` : '';
    return { text: lead + local, commands: showConfig(e) };
  },
};

export const RESOLVE: Partial<Record<StepId, StepFn>> = {
  reconnect: (e) => {
    if (e.ctx.cause !== 'lapi_restart') return null;
    const ops = serviceOps(e);
    const resetFailed =
      e.where === 'host' && !e.p.windows && !withoutSystemd(e) && e.p.runtime === 'daemon' ? [sh`sudo systemctl reset-failed ${e.p.unit}`] : [];
    const retry = e.p.goCsBouncer
      ? ` To ride out the next restart, set ${code('retry_initial_connect: true')} in ${code(e.p.configPath)}: it then retries every 10 s instead of exiting when the Local API is down at its start.`
      : '';
    return {
      text: `The Local API restarted around the time ${code(e.ctx.bouncerName)} went quiet, and it did not reconnect (a bouncer that finds the Local API down when it starts often exits, and systemd gives up after a few quick retries). Restart it so it opens a fresh connection.${retry}`,
      commands: [...resetFailed, ...ops.restart, ...(e.p.runtime === 'daemon' ? ops.enable : [])],
    };
  },
  configureKey: (e) => {
    if (e.ctx.cause !== 'never_pulled') return null;
    const edit = editConfig(e);
    const ops = serviceOps(e);
    return {
      text: `${code(e.ctx.bouncerName)} was registered but has never pulled: its key was probably never put in its config, or it was never started. Set the key shown at registration as ${code(e.p.keyLine)} ${edit.where}, and start it. (A lost key cannot be shown again: register a new one as in the next step.)`,
      commands: [
        ...edit.commands,
        ...(edit.restarts
          ? []
          : e.where === 'host' && !e.p.windows && !withoutSystemd(e) && e.p.runtime === 'daemon'
            ? [sh`sudo systemctl enable --now ${e.p.unit}`]
            : ops.restart),
      ],
    };
  },
  restart: (e) => {
    if (e.ctx.cause === 'lapi_restart') return null; // the reconnect step restarts it
    const ops = serviceOps(e);
    const text: Record<Runtime, string> = {
      webserver: `Restart ${code(e.p.unit)} so the bouncer inside it starts again:`,
      app: `Restart PHP (${code(e.p.unit)}) so the bouncer is loaded again:`,
      daemon: ops.enable.length > 0 ? 'Restart the bouncer and make sure it starts at boot:' : 'Restart the bouncer:',
    };
    return {
      text: text[e.p.runtime],
      commands: [...ops.restart, ...(e.p.runtime === 'daemon' ? ops.enable : [])],
    };
  },
  rekey: (e) => {
    const base = e.ctx.bouncerName.replace(/@.*$/, '') || e.ctx.bouncerName;
    const newName = `${base}-new`;
    const edit = editConfig(e);
    const ops = serviceOps(e);
    const dockerEnv =
      e.cli === 'cscli' && e.ctx.deployment === 'docker'
        ? " If the key is set through `BOUNCER_KEY_<name>` in the crowdsec container's environment, change it there and recreate that container instead."
        : '';
    const restart = edit.restarts ? [] : ops.restart;
    return {
      text: `Register a new key under a new name, ${code(newName)} (keys are shown once and cannot be recovered), copy the key it prints, and set it as ${code(e.p.keyLine)} ${edit.where}.${dockerEnv} Once the new entry pulls, remove the old one: ${code(lapiCmd(e, `bouncers delete ${nameArg(e.ctx.bouncerName)}`))}.`,
      commands: [lapiCmd(e, `bouncers add ${nameArg(newName)}`), ...edit.commands, ...restart],
    };
  },
  network: (e) => {
    const docker =
      e.where === 'docker'
        ? " Between containers, use the Local API's service name on a shared network (e.g. `http://crowdsec:8080/`), not 127.0.0.1."
        : e.ctx.deployment === 'docker'
          ? ' A Local API in a container must publish its port to the host (e.g. `ports: ["127.0.0.1:8080:8080"]`).'
          : '';
    return {
      text: `If the bouncer runs on another host, the Local API must listen on an address it can reach (not 127.0.0.1) and the port must be open between them.${docker} Test, then correct the URL in its config to ${urlSetting(e)}:`,
      commands: reachCommands(e),
    };
  },
  enableModule: (e) =>
    e.p.moduleEnable
      ? { text: e.p.moduleEnable.text, commands: e.p.moduleEnable.commands.map((c) => (e.p.runsOn === 'kubernetes' ? c : inBouncer(e, c))) }
      : null,
  fixConfig: (e) => {
    const edit = editConfig(e);
    const ops = serviceOps(e);
    const check = [...(e.p.syntaxCheck ?? []).map((c) => inBouncer(e, c)), ...(selfTest(e) ? [selfTest(e) as string] : [])];
    const restart = edit.restarts ? [] : ops.restart;
    const yaml = e.p.configPath.endsWith('.yaml') ? ' Check the YAML indentation.' : '';
    const local = e.p.localOverride ? ` A value in ${code(e.p.configPath + '.local')} wins over the main file.` : '';
    const then = check.length > 0 ? (edit.restarts ? ' Then check it:' : ' Then check it and restart:') : edit.restarts ? '' : ' Then restart it:';
    // HAProxy's Lua bouncer reaches the Local API through a backend in haproxy.cfg, not its own file.
    const urlFile = e.p.urlWhere && e.where === 'host' ? [sh`sudo nano ${e.p.urlWhere.file}`] : [];
    return {
      text: `Fix the configuration: set ${urlSetting(e)}${e.p.trailingSlash ? ' (keep the trailing `/`)' : ''}${e.p.urlWhere ? ',' : ''} and ${code(e.p.keyLine)} ${edit.where}.${yaml}${local}${then}`,
      commands: [...urlFile, ...edit.commands, ...check, ...restart],
    };
  },
  permissions: (e) => {
    if (!e.p.readBy || e.where !== 'host' || e.p.configPath.startsWith('WordPress')) return null;
    return {
      text: `The config must be readable by the web server user (${code(e.p.readBy)}):`,
      commands: ['ls -la /etc/crowdsec/bouncers/', sh`sudo chmod 640 ${e.p.configPath}`, sh`sudo chown ${'root:' + e.p.readBy} ${e.p.configPath}`],
    };
  },
};

/** The seed page's order; a cause moves its own steps to the front. */
export const SEED_ORDER: { diagnose: StepId[]; resolve: StepId[] } = {
  diagnose: ['registration', 'service', 'module', 'logs', 'connectivity', 'keyTest', 'config'],
  resolve: ['reconnect', 'configureKey', 'restart', 'rekey', 'network', 'enableModule', 'fixConfig', 'permissions'],
};

export function ordered(first: StepId[], seed: StepId[]): StepId[] {
  return [...first, ...seed.filter((id) => !first.includes(id))];
}
