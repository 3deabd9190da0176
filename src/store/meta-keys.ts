/**
 * The keys of the store's `vigil_meta` rows, in one place: each names what it holds, and no two
 * parts of Vigil can pick the same one by accident.
 */
export const META_KEYS = {
  /** SHA-256 of the admin API token (`vigil admin token`). */
  adminToken: 'admin_token_sha256',
  /** scrypt hash of the dashboard password. */
  dashboardPassword: 'dashboard_password_scrypt',
  /** Which program owns the store: serve or watch (store-role.ts). */
  storeRole: 'store_role',
  /** How runbooks address the Local API (runbook-settings.ts). */
  runbookSettings: 'runbook_settings',
  /** `vigil watch`: the latest pull from CrowdSec's access log already counted in the pull history. */
  watchPullsCountedUntil: 'watch_pulls_counted_until',
  /** `vigil watch`: its poll_every in ms, so a status read from its store allows for a read up to one poll old. */
  watchPollEveryMs: 'watch_poll_every_ms',
  /** Prefix of the one-time dashboard login links (`vigil admin login-link`): `login_link:SHA256` → expiry (login-links.ts). */
  loginLinkPrefix: 'login_link:',
} as const;
