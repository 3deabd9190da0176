import { Registry, type Metric } from 'prom-client';
import { fairTurn } from '../lib/turns.ts';

/** Series of one metric written as text between two turns of the event loop. */
export const FORMAT_SLICE = 1000;

type MetricItem = Awaited<ReturnType<Metric['get']>>;
/** prom-client's own formatter of one metric (Registry.getMetricsAsString: there, not in its types). */
type FormatOne = (this: Registry, metric: { get(): Promise<MetricItem> | MetricItem }) => Promise<string>;
const formatOne = (Registry.prototype as unknown as { getMetricsAsString: FormatOne }).getMetricsAsString;

/**
 * A registry that writes a metric's series as text a slice at a time, letting the event loop turn
 * in between: prom-client writes each metric in one piece, and the per-bouncer gauges of 2,000
 * bouncers (12,000 series of `vigil_bouncer_status`) held every pull for ~35 ms of CPU at each
 * scrape (issue 27 item 5). The text is prom-client's own, slice by slice: the same answer.
 */
export class SlicedRegistry extends Registry {
  async getMetricsAsString(metric: Metric): Promise<string> {
    const m = metric as Metric & { getForPromString?: () => Promise<MetricItem> };
    const item = await (typeof m.getForPromString === 'function' ? m.getForPromString() : m.get());
    const values = item.values ?? [];
    if (values.length <= FORMAT_SLICE) return formatOne.call(this, { get: () => item });
    const parts: string[] = [];
    for (let from = 0; from < values.length; from += FORMAT_SLICE) {
      if (from > 0) await fairTurn();
      const text = await formatOne.call(this, { get: () => ({ ...item, values: values.slice(from, from + FORMAT_SLICE) }) });
      // Each slice's text starts with the metric's HELP and TYPE lines (one line each: their newlines are escaped); the first slice keeps them.
      parts.push(from === 0 ? text : text.slice(text.indexOf('\n', text.indexOf('\n') + 1) + 1));
    }
    return parts.join('\n');
  }
}
