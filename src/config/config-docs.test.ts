import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from './config-docs.ts';
import { fileSchema } from './config.ts';

const page = path.join(import.meta.dirname, '..', '..', 'docs', 'configuration.md');

describe('docs/configuration.md', () => {
  it('is what the schema generates (run npm run docs:config after changing a key)', () => {
    expect(fs.readFileSync(page, 'utf8')).toBe(renderConfigDocs());
  });

  it('documents every key of vigil.yaml with a description', () => {
    const text = renderConfigDocs();
    const walk = (schema: unknown, prefix: string): string[] => {
      const shape = (schema as { shape?: Record<string, unknown> }).shape;
      if (!shape) return [];
      return Object.entries(shape).flatMap(([k, v]) => {
        const key = prefix ? `${prefix}.${k}` : k;
        let inner = v as { _zod: { def: { type: string; innerType?: unknown } }; meta(): { description?: string } | undefined };
        const described = Boolean(inner.meta()?.description);
        while (inner._zod.def.type === 'optional') inner = inner._zod.def.innerType as typeof inner;
        return [...(described ? [] : [key]), ...(key === 'notifications' ? [] : walk(inner, key))];
      });
    };
    expect(walk(fileSchema, '')).toEqual([]);
    for (const key of [
      'listen',
      'db',
      'health.offline_after',
      'limits.header_timeout',
      'notifications.retry_max',
      'watch.poll_every',
      'admin_trusted_proxies',
    ]) {
      expect(text).toContain(`| \`${key}\` |`);
    }
  });
});
