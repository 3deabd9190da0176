/** Where a Debian/RPM CrowdSec keeps its configuration (doctor, watch and import read it from here by default). */
export const DEFAULT_CROWDSEC_CONFIG = '/etc/crowdsec/config.yaml';
