import { gunzipSync } from 'node:zlib';
import { z } from 'zod';

/**
 * `POST /v1/usage-metrics` bodies (CrowdSec 1.6.3+, docs/reference/crowdsec-docs-notes.md §2.5), validated as CrowdSec's
 * swagger does: 400 for a body that is not JSON or has the wrong shape of payload kinds, 422 for a
 * field that fails the schema. Only remediation-component reports are accepted: bouncers send them.
 */
const unixSeconds = z.number().int().nonnegative();

const metricItem = z.object({
  name: z.string().min(1).max(255),
  value: z.number().finite(),
  unit: z.string().min(1).max(255),
  labels: z.record(z.string().max(255), z.string().max(1024)).optional(),
});

const detailedMetrics = z.object({
  meta: z.object({ window_size_seconds: z.number().int().nonnegative(), utc_now_timestamp: unixSeconds }),
  items: z.array(metricItem).max(10_000),
});

const remediationComponent = z.object({
  version: z.string().min(1).max(255),
  utc_startup_timestamp: unixSeconds,
  os: z.object({ name: z.string().min(1).max(255), version: z.string().min(1).max(255), family: z.string().max(255).optional() }).optional(),
  feature_flags: z.array(z.string().max(255)).max(100).optional(),
  metrics: z.array(detailedMetrics).max(1_000).optional(),
  type: z.string().max(255).optional(),
  name: z.string().max(255).optional(),
  last_pull: unixSeconds.optional(),
});

export type RemediationComponentReport = z.infer<typeof remediationComponent>;

const allMetrics = z.object({
  remediation_components: z.array(z.unknown()).optional(),
  log_processors: z.array(z.unknown()).optional(),
  lapi: z.unknown().optional(),
});

/** Larger than any real report (a few KB), small enough that a hostile body costs nothing. */
export const USAGE_METRICS_MAX_BYTES = 1 << 20;

export type UsageMetricsResult = { ok: true; report: RemediationComponentReport } | { ok: false; status: 400 | 413 | 422; message: string };

export function parseUsageMetrics(body: Uint8Array, contentEncoding: string | undefined): UsageMetricsResult {
  let raw = body;
  if (contentEncoding && /gzip/i.test(contentEncoding)) {
    try {
      // Inflation stops at the cap: a bomb costs at most the cap in memory.
      raw = gunzipSync(body, { maxOutputLength: USAGE_METRICS_MAX_BYTES });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, status: 413, message: `body: larger than ${USAGE_METRICS_MAX_BYTES} bytes once decompressed; send one report per push` };
      }
      return { ok: false, status: 400, message: `body: not valid gzip, or larger than ${USAGE_METRICS_MAX_BYTES} bytes once decompressed` };
    }
  }
  if (raw.byteLength > USAGE_METRICS_MAX_BYTES) {
    return { ok: false, status: 413, message: `body: larger than ${USAGE_METRICS_MAX_BYTES} bytes; send one report per push` };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch {
    return { ok: false, status: 400, message: 'body: not valid JSON; send {"remediation_components":[{...}]}' };
  }
  const top = allMetrics.safeParse(json);
  if (!top.success) return { ok: false, status: 422, message: describe(top.error) };
  const { remediation_components: rc, log_processors: lp } = top.data;
  if (lp && lp.length > 0) {
    return { ok: false, status: 400, message: 'log_processors: a remediation component (API key) can only send remediation_components' };
  }
  if (!rc || rc.length === 0) return { ok: false, status: 400, message: 'remediation_components: missing; a bouncer sends exactly one item' };
  if (rc.length > 1) return { ok: false, status: 400, message: `remediation_components: ${rc.length} items; a bouncer sends exactly one` };
  const item = remediationComponent.safeParse(rc[0]);
  if (!item.success) return { ok: false, status: 422, message: describe(item.error, 'remediation_components.0.') };
  return { ok: true, report: item.data };
}

function describe(error: z.ZodError, prefix = ''): string {
  const first = error.issues[0];
  if (!first) return 'body: does not match the usage-metrics schema';
  const path = prefix + first.path.map(String).join('.');
  return `${path || 'body'}: ${first.message}`;
}
