import fs from 'node:fs';

/**
 * What starts services on this host: `systemd` when it is PID 1 (sd_booted(3): /run/systemd/system
 * exists), else `none`; runbooks then print process and log-file commands instead of systemctl.
 */
export function detectServiceManager(root = '/'): 'systemd' | 'none' {
  return fs.existsSync(`${root.replace(/\/$/, '')}/run/systemd/system`) ? 'systemd' : 'none';
}
