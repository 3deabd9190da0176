import { gunzipSync } from 'node:zlib';
import { decodeUsageMetrics, type DecodedUsageMetrics, type LogProcessorReport, type RemediationComponentReport } from '../core/usage/decode.ts';

/**
 * `POST /v1/usage-metrics` bodies (CrowdSec 1.6.3+, docs/reference/crowdsec-1.6-1.7.md §6): decoded and
 * validated as CrowdSec does (core/usage/decode.ts: 400 for a type error, 422 for a validation
 * failure), then held to CrowdSec's rule for who sends what: a bouncer (API key) exactly one
 * `remediation_components` item, an agent (JWT) exactly one `log_processors` item.
 */
export type { LogProcessorReport, RemediationComponentReport };

/** Larger than any real report (a few KB), small enough that a hostile body costs nothing. */
export const USAGE_METRICS_MAX_BYTES = 1 << 20;

export type UsageMetricsFailure = { ok: false; status: 400 | 413 | 422; message: string };
export type UsageMetricsResult<R> = { ok: true; report: R } | UsageMetricsFailure;

/** A bouncer's report: its one remediation_components item. */
export function parseBouncerUsageMetrics(body: Uint8Array, contentEncoding: string | undefined): UsageMetricsResult<RemediationComponentReport> {
  const all = parseAll(body, contentEncoding);
  if (!all.ok) return all;
  const { remediationComponents: rc, logProcessors: lp } = all.value;
  // CrowdSec's checks and words (usagemetrics.go), with the fix after them.
  if (lp.length > 1) return { ok: false, status: 400, message: 'Payload has more than one log processor' };
  if (rc.length === 0)
    return { ok: false, status: 400, message: 'Missing remediation component data: a bouncer (X-Api-Key) sends one remediation_components item' };
  if (rc.length > 1)
    return { ok: false, status: 400, message: `Payload has more than one remediation component (${rc.length} items); a bouncer sends exactly one` };
  return { ok: true, report: rc[0]! };
}

/** An agent's report: its one log_processors item. */
export function parseMachineUsageMetrics(body: Uint8Array, contentEncoding: string | undefined): UsageMetricsResult<LogProcessorReport> {
  const all = parseAll(body, contentEncoding);
  if (!all.ok) return all;
  const { remediationComponents: rc, logProcessors: lp } = all.value;
  if (lp.length === 0) return { ok: false, status: 400, message: 'Missing log processor data: an agent (JWT) sends one log_processors item' };
  if (lp.length > 1) return { ok: false, status: 400, message: `Payload has more than one log processor (${lp.length} items); an agent sends exactly one` };
  if (rc.length > 1) return { ok: false, status: 400, message: 'Payload has more than one remediation component' };
  return { ok: true, report: lp[0]! };
}

function parseAll(body: Uint8Array, contentEncoding: string | undefined): { ok: true; value: DecodedUsageMetrics } | UsageMetricsFailure {
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
  return decodeUsageMetrics(json);
}
