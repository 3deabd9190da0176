/**
 * The likely causes of an enforcement issue (remediation_not_enforced, remediation_drift), spread
 * into the cause registry (causes.ts) like the machines' causes. No `first` (none of the bouncer
 * runbook's steps apply: these issues have their own runbook, enforcement-runbooks.ts).
 */
export const ENFORCEMENT_CAUSES = {
  integration_not_loaded: {
    text: 'pulled but not applied: the integration is not loaded in that vhost/location (auth_request, forward_auth, module directive missing)',
    summary: 'the bouncer pulled the test decision but the site still serves the address: the integration is not loaded for that vhost or location',
  },
  client_address_not_passed: {
    text: 'pulled but not applied: the proxy does not pass the client address, or the bouncer does not trust it (real_ip / trusted proxies)',
    summary: "the bouncer judges the proxy's address instead of the client's: the proxy does not pass X-Forwarded-For, or the bouncer does not trust it",
  },
  decision_not_pulled: {
    text: 'the bouncer did not pull the test decision: it is offline or not pulling (see its RC Integration Offline / Integration Late issue)',
    summary: 'the bouncer did not pull after the test decision was added: it is offline, stuck, or cannot reach the Local API',
  },
  site_unreachable: {
    text: 'the site stopped answering during the test',
    summary: 'the protected URL stopped answering while the test decision was in place',
  },
  origins_dropped: {
    text: 'the bouncer holds none of some origins it is sent (a filter or a bug drops them, cf. cs-firewall-bouncer #506)',
    summary: 'the bouncer reports holding no decisions of some origins the Local API sends it: a filter or a bug drops them',
  },
  origins_filtered: {
    text: "the bouncer's own origins filter leaves out origins the Local API holds active decisions of (e.g. origins: crowdsec drops every cscli ban)",
    summary: "the bouncer's origins filter leaves out decisions the Local API holds: they are never enforced there",
  },
  decisions_missing: {
    text: 'the bouncer holds fewer decisions than the Local API sends it (lost cache after a restart, a missed delta, or a full set that failed)',
    summary: 'the bouncer holds fewer decisions than it is sent: it lost its cache, missed a delta, or failed to apply part of the set',
  },
  decisions_extra: {
    text: 'the bouncer holds more decisions than the Local API sends it (deletions not applied, or other sources)',
    summary: 'the bouncer holds decisions the Local API no longer sends: deletions are not applied, or it has other sources',
  },
} as const satisfies Record<string, { text: string; summary: string }>;
