/**
 * Every code a VigilError carries, in one list: the HTTP edge maps them to statuses
 * (src/server/http-errors.ts), tests and the CLI switch on them, and a typo does not compile.
 */
export const VIGIL_ERROR_CODES = [
  'E_ABORTED',
  'E_ALLOWLISTED',
  'E_ALLOWLIST_EXISTS',
  'E_ALLOWLIST_READONLY',
  'E_BAD_BODY',
  'E_BAD_DB',
  'E_BAD_DURATION',
  'E_BAD_FORWARDED_FOR',
  'E_BAD_IP',
  'E_BAD_KEY',
  'E_BAD_LENGTH',
  'E_BAD_NAME',
  'E_BAD_PARAM',
  'E_BAD_RANGE',
  'E_BAD_SCOPE',
  'E_BAD_TYPE',
  'E_BAD_VALUE',
  'E_BODY_TOO_LARGE',
  'E_BOUNCER_EXISTS',
  'E_CONFIG',
  'E_CROWDSEC_CONFIG',
  'E_CSCLI',
  'E_DB_OPEN',
  'E_DB_SCHEMA',
  'E_IMPORT_EMPTY',
  'E_IMPORT_PARSE',
  'E_IMPORT_READ',
  'E_IMPORT_ROW',
  'E_IMPORT_SIZE',
  'E_ISSUE_RESOLVED',
  'E_KEY_IN_USE',
  'E_LAPI',
  'E_LISTEN',
  'E_MACHINE_EXISTS',
  'E_MIGRATION',
  'E_NOTIFY',
  'E_NO_ALLOWLIST',
  'E_NO_BOUNCER',
  'E_NO_ISSUE',
  'E_NO_MACHINE',
  'E_NO_SILENCE',
  'E_NO_STORE',
  'E_RELOAD',
  'E_SILENCE_ENDED',
  'E_STORE_DOWN',
  'E_STORE_FULL',
  'E_STORE_LOST',
  'E_STORE_MODE',
  'E_STORE_ROLE',
  'E_TOO_LONG',
  'E_USAGE',
  'E_WATCH_SOURCE',
] as const;

export type VigilErrorCode = (typeof VIGIL_ERROR_CODES)[number];

/**
 * The one error type Vigil throws on purpose. `code` is stable (tests and the HTTP/CLI edges
 * switch on it); `message` names the field and the fix, for an operator to read.
 */
export class VigilError extends Error {
  readonly code: VigilErrorCode;
  constructor(code: VigilErrorCode, message: string) {
    super(message);
    this.name = 'VigilError';
    this.code = code;
  }
}

export const isVigilError = (e: unknown): e is VigilError => e instanceof VigilError;
