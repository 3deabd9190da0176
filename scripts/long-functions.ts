// Lists the functions longer than a limit (issue 26: none over 80 lines), parsed with @swc/core.
//   npx node scripts/long-functions.ts [--max 80] [FILES…]   (default: every non-test .ts file under src/)
import fs from 'node:fs';
import path from 'node:path';
import { parseSync } from '@swc/core';

const args = process.argv.slice(2);
const maxAt = args.indexOf('--max');
const max = maxAt >= 0 ? Number(args.splice(maxAt, 2)[1]) : 80;
const walk = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
const files = args.length ? args : walk('src');

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ClassMethod', 'PrivateMethod', 'Constructor']);
type Node = { type?: string; span?: { start: number; end: number }; [k: string]: unknown };

let found = 0;
for (const file of files) {
  // swc's offsets count from the first token of the module, in bytes: a leading `0;` pins that at 0.
  const text = `0;\n${fs.readFileSync(file, 'utf8')}`;
  const bytes = Buffer.from(text, 'utf8');
  const module = parseSync(text, { syntax: 'typescript' }) as unknown as Node;
  const base = module.span!.start;
  const lineOf = (offset: number) =>
    bytes
      .subarray(0, offset - base)
      .toString('utf8')
      .split('\n').length - 1;
  const nameOf = (n: Node, fallback: string): string => {
    const id = (n.identifier ?? n.key ?? n.id) as { value?: string } | undefined;
    return typeof id?.value === 'string' ? id.value : fallback;
  };
  const visit = (n: unknown, name: string): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x, name);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const node = n as Node;
    const here = ['FunctionDeclaration', 'ClassMethod', 'PrivateMethod', 'VariableDeclarator', 'KeyValueProperty'].includes(node.type ?? '')
      ? nameOf(node, name)
      : name;
    if (FUNCTIONS.has(node.type ?? '') && node.span) {
      const first = lineOf(node.span.start);
      const lines = lineOf(node.span.end) - first + 1;
      if (lines > max) {
        found++;
        console.log(`${file}:${first} ${here} ${lines} lines`);
      }
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'span') visit(v, here);
  };
  visit((module as { body?: unknown }).body, '<anonymous>');
}
console.log(`${found} function(s) over ${max} lines in ${files.length} file(s)`);
