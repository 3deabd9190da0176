// Writes docs/configuration.md from the configuration schema (`npm run docs:config`).
import fs from 'node:fs';
import path from 'node:path';
import { renderConfigDocs } from '../src/config/config-docs.ts';

const file = path.join(import.meta.dirname, '..', 'docs', 'configuration.md');
fs.writeFileSync(file, renderConfigDocs());
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
