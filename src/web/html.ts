import { escapeHtml } from '../lib/escape-html.ts';

/**
 * A tiny HTML builder: interpolated values are escaped unless they are `Html` already, arrays are
 * joined, and null/undefined/false render nothing. Pages are pure functions from data to Html.
 */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

type Value = Html | string | number | null | undefined | false | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Markup built here from escaped parts (e.g. an SVG path); never user input. */
export function raw(text: string): Html {
  return new Html(text);
}
