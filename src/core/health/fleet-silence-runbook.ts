/**
 * Fleet Silent's short runbook (fleet-silence.ts): many bouncers stopped pulling at the same moment,
 * so look between them and the Local API, not at each bouncer. Pure: builds text, runs nothing.
 */
import { FLEET_CAUSES } from './fleet-silence-causes.ts';
import { parseLapi, shellQuote, type Runbook } from './runbooks/index.ts';

export function fleetSilentRunbook(lapiUrl: string): Runbook {
  const lapi = parseLapi(lapiUrl);
  const health = shellQuote(`${lapi.url.replace(/\/$/, '')}/health`);
  return {
    title: 'Fleet Silent: many bouncers stopped pulling at once',
    summary: FLEET_CAUSES.fleet_network.summary,
    configPath: '',
    serviceName: '',
    sections: [
      {
        title: 'Diagnose',
        steps: [
          {
            text: 'Which bouncers are silent, and since when (the issue lists them; a shared address or subnet points at one link):',
            commands: ['sudo vigil bouncers list', 'sudo vigil issues list'],
          },
          {
            text: `From one of the silent bouncers' hosts, reach the Local API at ${lapi.host}:${lapi.port}:`,
            commands: [`curl -sS -m 5 -o /dev/null -w '%{http_code}\\n' ${health}`],
          },
          {
            text: 'On the Local API host: is it listening, and does its firewall or load balancer let the bouncers in?',
            commands: [`sudo ss -ltnp | grep -- ${shellQuote(`:${lapi.port}`)}`, 'sudo journalctl -u vigil --since "-30 min"'],
          },
        ],
      },
      {
        title: 'Resolve',
        steps: [
          {
            text: 'Restore the path between the bouncers and the Local API (link, route, firewall rule, load balancer); the bouncers reconnect at their next pull by themselves.',
            commands: [],
          },
        ],
      },
      {
        title: 'Verify',
        steps: [
          {
            text: 'The issue resolves once the bouncers pull again; any that stays silent is raised on its own, with its own runbook.',
            commands: ['sudo vigil issues list'],
          },
        ],
      },
    ],
  };
}
