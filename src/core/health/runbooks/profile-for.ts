import type { BouncerFamily } from '../bouncer-kind.ts';
import type { Profile } from './profile.ts';
import { DAEMON_PROFILES } from './profiles-daemons.ts';
import { WEB_PROFILES } from './profiles-web.ts';

/** In this order: within a family, the first variant whose `when` matches wins, then the family's default. */
const PROFILES: Profile[] = [...WEB_PROFILES, ...DAEMON_PROFILES];

/** Bouncers we have no page for: the usual convention, named after the type when it looks like a unit name. */
function genericProfile(family: BouncerFamily, type: string): Profile {
  const unitLike = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(type) && !/^(curl|go-http-client|crowdsec)$/i.test(type);
  const unit = unitLike ? type.toLowerCase() : '<bouncer-service>';
  return {
    id: 'generic',
    family,
    label: unitLike ? `${type} bouncer` : 'bouncer',
    configPath: unitLike ? `/etc/crowdsec/bouncers/${unit}.yaml` : '/etc/crowdsec/bouncers/<bouncer-config>.yaml',
    urlLine: 'api_url: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: '^\\s*(api_url|api_key):',
    trailingSlash: true,
    unit,
    ...(unitLike ? { binary: unit } : {}),
    runtime: 'daemon',
    logs: unitLike ? [`/var/log/${unit}.log`] : ['/var/log/<bouncer>.log'],
  };
}

export function profileFor(family: BouncerFamily, type: string): Profile {
  const t = type.toLowerCase();
  const ofFamily = PROFILES.filter((p) => p.family === family);
  return ofFamily.find((p) => p.when?.some((w) => t.includes(w))) ?? ofFamily.find((p) => p.when === undefined) ?? genericProfile(family, type);
}

/** The config file and service a bouncer of this family and type usually has (for runbooks of other issues). */
export function bouncerService(family: BouncerFamily, type: string): { configPath: string; unit: string } {
  const p = profileFor(family, type);
  return { configPath: p.configPath, unit: p.unit };
}
