import { z } from 'zod';
import { DEPLOYMENTS } from '../core/health/runbooks/index.ts';

/**
 * The `watch:` block of vigil.yaml (read by `vigil watch` only). Its own module, importing nothing
 * of Vigil's, so the configuration loader can include it without an import cycle.
 */
export const watchFileSchema = z
  .object({
    crowdsec_config: z.string().optional().meta({
      description: "CrowdSec's config.yaml, for its db_config and Local API address.",
      default: '/etc/crowdsec/config.yaml',
      flag: '--crowdsec-config',
    }),
    crowdsec_db: z.string().optional().meta({
      description: "CrowdSec's database instead: `sqlite:PATH`, `postgres://…` or `mysql://…` (read only).",
      default: "from CrowdSec's config",
      flag: '--crowdsec-db',
    }),
    cscli: z.string().optional().meta({ description: 'Read through `PREFIX bouncers list -o json`, e.g. `docker exec crowdsec cscli`.', flag: '--cscli' }),
    poll_every: z
      .string()
      .meta({ format: 'duration' })
      .optional()
      .meta({ description: "How often to read, probe CrowdSec's Local API and evaluate (at least 100ms).", default: '10s', flag: '--poll-every' }),
    listen: z.string().optional().meta({
      description: 'Admin API, dashboard, `/metrics` and `/health` of `vigil watch`; `off` disables it.',
      default: '127.0.0.1:6070',
      flag: '--listen (watch)',
    }),
    lapi_url: z.string().optional().meta({
      description: "CrowdSec's Local API URL as bouncers use it, for runbooks.",
      default: "from CrowdSec's config, else http://127.0.0.1:8080/",
      flag: '--lapi-url',
    }),
    deployment: z
      .enum(DEPLOYMENTS)
      .optional()
      .meta({ description: 'Where CrowdSec runs, for runbooks.', default: 'from --cscli, else host', flag: '--deployment' }),
    access_log: z.string().optional().meta({
      description: "CrowdSec's Local API access log, read for pulls (cadence), refused keys, wrong paths and restarts: a path, `journald[:UNIT]`, or `off`.",
      default: "from CrowdSec's config (common.log_dir, default /var/log/, + crowdsec_api.log; journald with log_media: stdout), else off",
      flag: '--access-log',
    }),
    prometheus_url: z.string().optional().meta({
      description: "CrowdSec's Prometheus endpoint, scraped each poll for per-bouncer request counters and restarts; `off` disables it.",
      default: "from CrowdSec's config when prometheus.enabled (http://listen_addr:listen_port/metrics)",
      flag: '--prometheus-url',
    }),
  })
  .strict();

export type WatchFileSection = z.infer<typeof watchFileSchema>;
