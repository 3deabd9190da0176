import type { BouncerFamily } from '../bouncer-kind.ts';
import type { RunbookStep } from './types.ts';

// Profiles: how each kind of bouncer is configured and run (docs/reference/crowdsec-docs-notes.md §3.2, the seed page, and the
// bouncers' own sources). One family can have several variants, chosen by the type.

export type Runtime = 'daemon' | 'webserver' | 'app';

export interface Profile {
  id: string;
  family: BouncerFamily;
  /** Lower-case substrings of the type that select this variant; none = the family's default. */
  when?: string[];
  label: string;
  configPath: string;
  /** The line that sets the Local API URL, as written in the file; `{url}`, `{hostport}` and `{scheme}` are filled in. */
  urlLine: string;
  /** Where the URL line lives when not in `configPath` (a phrase after the line, e.g. "in the backend … of haproxy.cfg"). */
  urlWhere?: { text: string; file: string };
  /** The line that sets the key, with `<paste-new-key>` for the operator to fill. */
  keyLine: string;
  /** An extended regex matching those lines, to show them (`grep -snE`). */
  keysPattern: string;
  /** Whether the URL is written with its trailing `/` (Go bouncers add it; Lua and PHP clients need it). */
  trailingSlash: boolean;
  /** go-cs-lib's yamlpatch: `<config>.local` is merged over `<config>` and wins. */
  localOverride?: boolean;
  /** Reads its config with go-cs-bouncer's ConfigReader, so `retry_initial_connect` applies. */
  goCsBouncer?: boolean;
  /**
   * The command that runs it with `-c <config>` (the binary, or `vigil bouncer forward-auth`): how to
   * start it by hand on a host without systemd, and how to find its process.
   */
  binary?: string;
  /** Whether `binary -c <config> -t` tests the config and exits (checked against the packages: Debian's custom bouncer 0.0.15 has no `-t`). */
  selfTest?: boolean;
  /** systemd unit (or Windows service) that runs it. */
  unit: string;
  runtime: Runtime;
  /** Log files on the host. */
  logs: string[];
  /** Where it runs whatever the Local API's deployment: firewalls change the host's own rules. */
  runsOn?: 'host' | 'kubernetes';
  windows?: boolean;
  /** Kubernetes coordinates when fixed (ingress-nginx). */
  k8s?: { namespace: string; pod: string; deployment: string };
  /** Group that must be able to read the config (web server workers). */
  readBy?: string;
  /** Host commands that validate the server's configuration. */
  syntaxCheck?: string[];
  moduleCheck?: RunbookStep;
  moduleEnable?: RunbookStep;
  /** How to set the key when it is not a line in a file: where (a phrase after "set it"), and the commands. */
  setKey?: { where: string; commands: string[] };
  /** Verify: how to see the test decision enforced, when `curl` through the service is not the way. */
  verify?: RunbookStep;
  /** Pulls only when it serves a request (live mode by default). */
  liveByDefault?: boolean;
}
