import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The package entry point: `import { createBouncer } from 'vigil/bouncer'` resolves through
 * package.json `exports` (run by Node itself, as an application would), and the public API does not
 * load Express, Fastify or the Local API server. Here on the sources (the `vigil-source` condition);
 * test/bouncer-package.test.ts covers the built copy an installed package uses.
 */
const root = path.join(import.meta.dirname, '..');
const node = path.join(root, 'node_modules', '.bin', 'node');

describe("import from 'vigil/bouncer'", () => {
  it('resolves to the library and loads no framework or server code', () => {
    const script = path.join(root, 'test', `.selfref-${process.pid}.ts`);
    fs.writeFileSync(
      script,
      `import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
const { createBouncer, withBouncer, expressBouncer, fastifyBouncer, BOUNCER_USER_AGENT } = await import('vigil/bouncer');
const b = createBouncer({ apiUrl: 'http://127.0.0.1:1/', apiKey: 'k', autoStart: false });
console.log(JSON.stringify({ ua: BOUNCER_USER_AGENT, types: [typeof withBouncer, typeof expressBouncer, typeof fastifyBouncer], check: b.check('192.0.2.1'), loaded }));
`,
    );
    try {
      const out = JSON.parse(execFileSync(node, ['--conditions=vigil-source', script], { cwd: root, encoding: 'utf8' }));
      expect(out.ua).toMatch(/^vigil-bouncer\/v\d+\.\d+\.\d+/);
      expect(out.types).toEqual(['function', 'function', 'function']);
      expect(out.check).toEqual({ remediation: 'bypass', reason: 'none' });
      const loaded = out.loaded as string[];
      expect(loaded.some((f) => f.endsWith('/src/remediation/index.ts'))).toBe(true);
      expect(loaded.some((f) => f.includes('node_modules/ipaddr.js/'))).toBe(true); // the hook sees dependencies
      const heavy = loaded.filter((f) =>
        /node_modules\/(express|fastify|hono|@hono|kysely|better-sqlite3|pg|pino|commander)\/|\/src\/(server|store|cli)\//.test(f),
      );
      expect(heavy).toEqual([]);
    } finally {
      fs.rmSync(script, { force: true });
    }
  });
});
