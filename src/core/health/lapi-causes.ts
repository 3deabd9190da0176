/**
 * The likely causes of a "CrowdSec Local API down" or "replaced" issue (`vigil watch`): what watch
 * sees from outside when CrowdSec's own Local API stops answering. Spread into the cause registry
 * (causes.ts); the runbook is lapi-runbooks.ts (none of the bouncer runbook's steps apply).
 */
export const LAPI_CAUSES = {
  lapi_stopped: {
    text: 'CrowdSec stopped or crashed (neither its Local API nor its Prometheus endpoint answers)',
    summary: 'the crowdsec process is not running: stopped, crashed, or killed (its log says why)',
  },
  lapi_not_listening: {
    text: 'CrowdSec runs but its Local API does not answer at its address (port, listen_uri, or a fatal Local API error)',
    summary: 'the crowdsec process runs (its Prometheus endpoint answers) but its Local API does not answer where bouncers reach it',
  },
  lapi_replaced_by_vigil: {
    text: "Vigil now serves the Local API's address (the stack was switched to vigil serve)",
    summary: "`vigil serve` answers at CrowdSec's Local API address: bouncers pull from Vigil, so CrowdSec's database no longer sees their pulls",
  },
  lapi_disabled: {
    text: "CrowdSec's Local API is disabled in its config (api.server.enable: false)",
    summary: "CrowdSec's config disables its Local API (`api.server.enable: false`): its agent sends to another Local API (Vigil, or another CrowdSec)",
  },
} as const;
