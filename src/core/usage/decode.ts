/**
 * `POST /v1/usage-metrics` bodies read as CrowdSec 1.6/1.7 reads them (cs `controllers/v1/usagemetrics.go`,
 * `pkg/models` AllMetrics, BaseMetrics, RemediationComponentsMetrics, LogProcessorsMetrics, DetailedMetrics,
 * MetricsMeta, MetricsDetailItem, OSversion; docs/reference/crowdsec-1.6-1.7.md §6), in two passes as Go does:
 * - decoding (Go's encoding/json): a value of the wrong JSON type is a 400 with Go's
 *   `json: cannot unmarshal …` message. `null` is an absent value, unknown fields are ignored;
 * - validation (go-openapi): a required field that is absent, or a string over 255 characters, is a
 *   422 with `validation failure list:` and one line per failure.
 * On purpose more lenient than CrowdSec, so no report is lost over a shape detail (docs/local-api.md):
 * `null` where a list or a map is expected reads as empty even when CrowdSec requires it (`items`,
 * `datasources`, `hub_items`), and an EMPTY object where a list is expected (old lua-cjson encodes
 * empty tables as `{}`: `"feature_flags": {}`), or an empty list where a map is expected (`"labels": []`),
 * reads as empty. A non-empty value of the wrong type is still refused. Pure: no I/O.
 */

export interface MetricItem {
  name: string;
  value: number;
  unit: string;
  labels?: Record<string, string>;
}

export interface DetailedMetrics {
  meta: { window_size_seconds: number; utc_now_timestamp: number };
  items: MetricItem[];
}

export interface BaseReport {
  version: string;
  utc_startup_timestamp: number;
  os?: { name: string; version: string };
  feature_flags?: string[];
  metrics?: DetailedMetrics[];
}

/** A bouncer's `remediation_components[0]`, as stored (`type`, `name`, `last_pull` are optional). */
export interface RemediationComponentReport extends BaseReport {
  type?: string;
  name?: string;
  last_pull?: number;
}

/** An agent's `log_processors[0]`: `datasources` counts configured sources per type (`{"file":2}`). */
export interface LogProcessorReport extends BaseReport {
  datasources: Record<string, number>;
  hub_items: Record<string, Array<{ name?: string; status?: string; version?: string }>>;
  name?: string;
  last_push?: number;
  last_update?: number;
}

export interface DecodedUsageMetrics {
  remediationComponents: RemediationComponentReport[];
  logProcessors: LogProcessorReport[];
}

export type DecodeResult = { ok: true; value: DecodedUsageMetrics } | { ok: false; status: 400 | 422; message: string };

/** Vigil's own caps (CrowdSec has none): far above any real report, they bound what a hostile body costs. */
export const LIST_CAPS = { metrics: 1_000, items: 10_000, feature_flags: 100, datasources: 1_000, hub_items: 10_000 } as const;
/** CrowdSec's maxLength on MetricsDetailItem name/unit and OSversion name/version; Vigil applies it to every short string. */
const MAX_STRING = 255;
const MAX_LABEL_VALUE = 1024;

// ------------------------------------------------------------------ the schema, as CrowdSec's models declare it

type Kind =
  | { t: 'string'; max?: number }
  | { t: 'int' }
  | { t: 'number' }
  | { t: 'list'; of: Kind; cap?: number; goType: string }
  | { t: 'map'; of: Kind; cap?: number; goType: string }
  | { t: 'object'; model: string; fields: Record<string, Field>; skipIfEmpty?: boolean };
interface Field {
  kind: Kind;
  required?: boolean;
}

const str = (max = MAX_STRING): Kind => ({ t: 'string', max });
const int: Kind = { t: 'int' };

const META: Kind = {
  t: 'object',
  model: 'MetricsMeta',
  fields: { window_size_seconds: { kind: int, required: true }, utc_now_timestamp: { kind: int, required: true } },
};
const ITEM: Kind = {
  t: 'object',
  model: 'MetricsDetailItem',
  fields: {
    name: { kind: str(), required: true },
    value: { kind: { t: 'number' }, required: true },
    unit: { kind: str(), required: true },
    labels: { kind: { t: 'map', of: str(MAX_LABEL_VALUE), goType: 'models.MetricsLabels' } },
  },
};
const DETAILED: Kind = {
  t: 'object',
  model: 'DetailedMetrics',
  fields: {
    meta: { kind: META, required: true },
    items: { kind: { t: 'list', of: ITEM, cap: LIST_CAPS.items, goType: '[]*models.MetricsDetailItem' }, required: true },
  },
};
const BASE_FIELDS: Record<string, Field> = {
  version: { kind: str(), required: true },
  utc_startup_timestamp: { kind: int, required: true },
  // CrowdSec skips the validation of an empty `os` object (swag.IsZero).
  os: {
    kind: {
      t: 'object',
      model: 'OSversion',
      skipIfEmpty: true,
      fields: { name: { kind: str(), required: true }, version: { kind: str(), required: true }, family: { kind: str() } },
    },
  },
  feature_flags: { kind: { t: 'list', of: str(), cap: LIST_CAPS.feature_flags, goType: '[]string' } },
  metrics: { kind: { t: 'list', of: DETAILED, cap: LIST_CAPS.metrics, goType: '[]*models.DetailedMetrics' } },
};
const RC: Kind = {
  t: 'object',
  model: 'RemediationComponentsMetrics',
  fields: { ...BASE_FIELDS, type: { kind: str() }, name: { kind: str() }, last_pull: { kind: int } },
};
const HUB_ITEM: Kind = { t: 'object', model: 'HubItem', fields: { name: { kind: str() }, status: { kind: str() }, version: { kind: str() } } };
const LP: Kind = {
  t: 'object',
  model: 'LogProcessorsMetrics',
  fields: {
    ...BASE_FIELDS,
    datasources: { kind: { t: 'map', of: int, cap: LIST_CAPS.datasources, goType: 'map[string]int64' }, required: true },
    hub_items: {
      kind: { t: 'map', of: { t: 'list', of: HUB_ITEM, cap: LIST_CAPS.hub_items, goType: '[]models.HubItem' }, cap: 100, goType: 'models.HubItems' },
      required: true,
    },
    name: { kind: str() },
    last_push: { kind: int },
    last_update: { kind: int },
  },
};
const ALL: Kind = {
  t: 'object',
  model: 'AllMetrics',
  fields: {
    remediation_components: { kind: { t: 'list', of: RC, goType: '[]*models.RemediationComponentsMetrics' } },
    log_processors: { kind: { t: 'list', of: LP, goType: '[]*models.LogProcessorsMetrics' } },
    // `lapi` is what a Local API sends to CAPI; nobody sends it to a Local API. Ignored, like any unknown field.
  },
};

// ------------------------------------------------------------------ decoding

class TypeError400 extends Error {}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

function goTypeOf(k: Kind): string {
  switch (k.t) {
    case 'string':
      return 'string';
    case 'int':
      return 'int64';
    case 'number':
      return 'float64';
    case 'list':
    case 'map':
      return k.goType;
    case 'object':
      return `models.${k.model}`;
  }
}

/**
 * Go's UnmarshalTypeError text (`Struct.field.path`), with the JSON path and indices after it so the
 * field can be found: `json: cannot unmarshal string into Go struct field BaseMetrics.utc_startup_timestamp
 * of type int64 (remediation_components.0.utc_startup_timestamp)`.
 */
function typeError(v: unknown, k: Kind, model: string, goPath: string, path: string): TypeError400 {
  const what = typeof v === 'number' ? `number ${v}` : jsonTypeOf(v);
  if (!goPath) return new TypeError400(`json: cannot unmarshal ${what} into Go value of type ${goTypeOf(k)}`);
  return new TypeError400(`json: cannot unmarshal ${what} into Go struct field ${model}.${goPath} of type ${goTypeOf(k)} (${path})`);
}

interface Where {
  /** The innermost Go struct and the JSON keys from it, as Go names them. */
  model: string;
  goPath: string;
  /** Dotted JSON path with indices, as go-openapi names fields. */
  path: string;
}

const under = (w: Where, key: string): Where => ({ model: w.model, goPath: w.goPath ? `${w.goPath}.${key}` : key, path: w.path ? `${w.path}.${key}` : key });
const at = (w: Where, i: number | string): Where => ({ ...w, path: `${w.path}.${i}` });

/** Decodes `v` as `k`; undefined means absent (JSON null or missing). Throws TypeError400. */
function decode(v: unknown, k: Kind, w: Where, failures: string[]): unknown {
  if (v === null || v === undefined) {
    // Lenient: a list or map sent as null reads as empty (CrowdSec refuses null `items`, `datasources`, `hub_items`).
    if (k.t === 'list') return v === null ? [] : undefined;
    if (k.t === 'map') return v === null ? {} : undefined;
    return undefined;
  }
  switch (k.t) {
    case 'string':
      if (typeof v !== 'string') throw typeError(v, k, w.model, w.goPath, w.path);
      if (k.max !== undefined && v.length > k.max) failures.push(`${w.path} in body should be at most ${k.max} chars long`);
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw typeError(v, k, w.model, w.goPath, w.path);
      return v;
    case 'number':
      if (typeof v !== 'number') throw typeError(v, k, w.model, w.goPath, w.path);
      return v;
    case 'list': {
      // An empty object for an empty list: old lua-cjson encodes every empty table as {}.
      if (isPlainObject(v) && Object.keys(v).length === 0) return [];
      if (!Array.isArray(v)) throw typeError(v, k, w.model, w.goPath, w.path);
      if (k.cap !== undefined && v.length > k.cap) {
        failures.push(`${w.path} in body should have at most ${k.cap} items`);
        return [];
      }
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        // A null element: an empty object (its required fields then fail), or a scalar Go leaves at zero.
        const d = decode(v[i] === null && k.of.t === 'object' ? {} : v[i], k.of, at(w, i), failures);
        if (d !== undefined) out.push(d);
      }
      return out;
    }
    case 'map': {
      // An empty list for an empty map: lua-cjson with encode_empty_table_as_object(false).
      if (Array.isArray(v) && v.length === 0) return {};
      if (!isPlainObject(v)) throw typeError(v, k, w.model, w.goPath, w.path);
      const keys = Object.keys(v);
      if (k.cap !== undefined && keys.length > k.cap) {
        failures.push(`${w.path} in body should have at most ${k.cap} properties`);
        return {};
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const d = decode(v[key], k.of, at(w, key), failures);
        // Go leaves a map entry sent as null at its zero value; Vigil drops it.
        if (d !== undefined) out[key] = d;
      }
      return out;
    }
    case 'object': {
      if (!isPlainObject(v)) throw typeError(v, k, w.model, w.goPath, w.path);
      const out: Record<string, unknown> = {};
      const own: Where = { model: k.model, goPath: '', path: w.path };
      for (const [key, f] of Object.entries(k.fields)) {
        const d = decode(v[key], f.kind, under(own, key), failures);
        if (d !== undefined) out[key] = d;
      }
      if (k.skipIfEmpty && Object.keys(out).length === 0) return undefined;
      for (const [key, f] of Object.entries(k.fields)) {
        if (f.required && out[key] === undefined) failures.push(`${under(own, key).path} in body is required`);
      }
      return out;
    }
  }
}

/** Reads a parsed JSON body as CrowdSec does; the status and message are CrowdSec's on failure. */
export function decodeUsageMetrics(json: unknown): DecodeResult {
  const failures: string[] = [];
  let all: Record<string, unknown>;
  try {
    // A body of `null` decodes to nothing, as in Go: the caller then says which list is missing.
    all = (decode(json, ALL, { model: 'AllMetrics', goPath: '', path: '' }, failures) as Record<string, unknown> | undefined) ?? {};
  } catch (e) {
    if (e instanceof TypeError400) return { ok: false, status: 400, message: e.message };
    throw e;
  }
  if (failures.length > 0) return { ok: false, status: 422, message: `validation failure list:\n${failures.join('\n')}` };
  return {
    ok: true,
    value: {
      remediationComponents: (all.remediation_components as RemediationComponentReport[] | undefined) ?? [],
      logProcessors: (all.log_processors as LogProcessorReport[] | undefined) ?? [],
    },
  };
}
