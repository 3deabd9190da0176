import { exactTime } from '../lib/human-time.ts';
import { html, raw, type Html } from './html.ts';
import { HOUR_MS, hourOf } from '../store/pull-history.ts';

/** One bar of a pull timeline: the pulls recorded in [start, start + hours × 1 h). */
export interface PullBucket {
  start: number;
  /** 1 for hourly bars; more where a long span must stay small (the fleet table's 7 days). */
  hours: number;
  pulls: number;
  /** Hours of the bar without a single pull: a multi-hour bar with pulls may still hide a gap. */
  silentHours: number;
}

/**
 * The last `spanHours` hours up to the current (partial) hour in bars of `bucketHours`, oldest
 * first, gaps as 0. Bars are aligned on the current hour, so the last bar always holds "now".
 */
export function pullBuckets(hours: ReadonlyArray<{ hour: number; pulls: number }>, now: number, spanHours: number, bucketHours = 1): PullBucket[] {
  const lastHour = hourOf(now);
  const n = Math.ceil(spanHours / bucketHours);
  const firstHour = lastHour - (n * bucketHours - 1) * HOUR_MS;
  const out: PullBucket[] = [];
  for (let i = 0; i < n; i++) out.push({ start: firstHour + i * bucketHours * HOUR_MS, hours: bucketHours, pulls: 0, silentHours: bucketHours });
  for (const h of hours) {
    if (h.hour < firstHour || h.hour > lastHour || h.pulls <= 0) continue;
    const b = out[Math.floor((h.hour - firstHour) / (bucketHours * HOUR_MS))]!;
    b.pulls += h.pulls;
    b.silentHours--;
  }
  return out;
}

function periods(n: number, hours: number): string {
  const unit = hours === 1 ? 'hour' : `${hours}-hour period`;
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** What the bars say, for people who do not see them: "pulled in 20 of 24 hours, none in the last 3 hours". */
export function timelineSummary(buckets: readonly PullBucket[]): string {
  const size = buckets[0]?.hours ?? 1;
  const withPulls = buckets.filter((b) => b.pulls > 0).length;
  if (withPulls === 0) return `no pull in the last ${periods(buckets.length, size)}`;
  let silent = 0;
  for (let i = buckets.length - 1; i >= 0 && buckets[i]!.pulls === 0; i--) silent++;
  const tail = silent === 0 ? `including this ${size === 1 ? 'hour' : 'period'}` : `none in the last ${periods(silent, size)}`;
  return `pulled in ${withPulls} of ${periods(buckets.length, size)}, ${tail}`;
}

/** Bar height: visible for one pull, full at the busiest hour; sqrt so quiet hours still show. */
function barHeight(pulls: number, max: number): number {
  if (pulls <= 0) return 0;
  return Math.round((3 + 7 * Math.sqrt(pulls / max)) * 10) / 10;
}

/**
 * An inline SVG (no script, no library): one unit per hour, stretched to the column's width.
 * `detailed` draws one element per hour with a tooltip (bouncer page); otherwise one path (fleet
 * table, where hundreds of rows each carry 24 + 168 bars).
 */
export function timelineSvg(buckets: readonly PullBucket[], opts: { label: string; detailed?: boolean }): Html {
  const n = buckets.length;
  const max = Math.max(1, ...buckets.map((b) => b.pulls));
  const gaps = buckets.some((b) => b.pulls > 0 && b.silentHours > 0 && b.hours > 1);
  const summary = `${opts.label}: ${timelineSummary(buckets)}${gaps ? ' (amber bars include hours without a pull)' : ''}`;
  let bars: Html;
  if (opts.detailed) {
    bars = html`${buckets.map((b, i) => {
      const h = barHeight(b.pulls, max);
      const cls = b.pulls === 0 ? 'tl-gap' : b.silentHours > 0 ? 'tl-partial' : 'tl-bar';
      const title = `${exactTime(b.start).slice(0, 16)}–${exactTime(b.start + b.hours * HOUR_MS).slice(11, 16)} UTC: ${b.pulls} pull${b.pulls === 1 ? '' : 's'}`;
      return html`<rect class="${cls}" x="${i + 0.1}" y="${b.pulls > 0 ? 10 - h : 9}" width="0.8" height="${b.pulls > 0 ? h : 1}"><title>${title}</title></rect>`;
    })}`;
  } else {
    // Two paths: bars with a pull every hour, and bars hiding a silent hour (amber).
    const path = (partial: boolean) =>
      buckets
        .map((b, i) => {
          const h = barHeight(b.pulls, max);
          return h > 0 && b.silentHours > 0 === partial ? `M${i + 0.1} 10v-${h}h0.8v${h}z` : '';
        })
        .join('');
    const [full, partial] = [path(false), path(true)];
    bars = raw(`${full ? `<path class="tl-bar" d="${full}"/>` : ''}${partial ? `<path class="tl-partial" d="${partial}"/>` : ''}`);
  }
  return html`<svg class="timeline${opts.detailed ? ' timeline-detailed' : ''}" viewBox="0 0 ${n} 10" preserveAspectRatio="none" role="img" aria-label="${summary}"><title>${summary}</title><rect class="tl-bg" x="0" y="0" width="${n}" height="10"/>${bars}</svg>`;
}
