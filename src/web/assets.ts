import crypto from 'node:crypto';
import fs from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';

/**
 * The dashboard's browser code and style, served by Vigil itself (no CDN, works offline). The
 * script is written in erasable TypeScript and stripped to JavaScript once, on first request.
 */
export interface Asset {
  body: string;
  contentType: string;
  /** `/ui/assets/<name>?v=<hash>`: a changed file gets a new URL, so it may be cached for good. */
  url: string;
}

const SOURCES = {
  'app.js': { file: new URL('./client/app.ts', import.meta.url), contentType: 'text/javascript; charset=utf-8', strip: true },
  'style.css': { file: new URL('./client/style.css', import.meta.url), contentType: 'text/css; charset=utf-8', strip: false },
} as const;

export type AssetName = keyof typeof SOURCES;

const cache = new Map<AssetName, Asset>();

export function isAssetName(name: string): name is AssetName {
  return Object.hasOwn(SOURCES, name);
}

export function asset(name: AssetName): Asset {
  let a = cache.get(name);
  if (!a) {
    const src = SOURCES[name];
    const text = fs.readFileSync(src.file, 'utf8');
    const hash = crypto.createHash('sha256').update(text).digest('hex').slice(0, 12);
    a = { body: src.strip ? stripTypes(text, src.file.pathname) : text, contentType: src.contentType, url: `/ui/assets/${name}?v=${hash}` };
    cache.set(name, a);
  }
  return a;
}

/**
 * Node 26 still flags `stripTypeScriptTypes` as experimental and prints a warning on first use; the
 * feature is the one Node runs our own .ts files with, so the warning is noise in `vigil serve`'s
 * output: it is swallowed for this one call, every other warning passes.
 */
function stripTypes(code: string, sourceUrl: string): string {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/stripTypeScriptTypes/.test(text)) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(code, { mode: 'strip', sourceUrl });
  } finally {
    process.emitWarning = emit;
  }
}
