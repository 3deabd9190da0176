import { createRequire } from 'node:module';

/** The package version, read once from package.json so the bouncer and the CLI never disagree. */
export const VIGIL_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * What the bouncer calls itself on the wire: the LAPI splits the User-Agent on `/` into type and
 * version (docs/reference/crowdsec-docs-notes.md §2.6), and the Console wants a semantic version with a `v` (docs/reference/anchors.md §2.3).
 */
export const BOUNCER_TYPE = 'vigil-bouncer';
export const BOUNCER_VERSION = `v${VIGIL_VERSION}`;
export const BOUNCER_USER_AGENT = `${BOUNCER_TYPE}/${BOUNCER_VERSION}`;
