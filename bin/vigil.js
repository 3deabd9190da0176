#!/usr/bin/env -S node --max-semi-space-size=8
// A smaller young generation (8 MB semi-spaces, Node's default is larger) keeps `vigil serve` ~60 MB
// smaller with 100k decisions in memory, with the same throughput (README "Benchmarks").
// Vigil runs its TypeScript directly on Node's type stripping (Node >= 23.6). `npm install` brings a
// current Node (the `node` devDependency) and `npx vigil` / `npm run vigil` use it.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 23 || (major === 23 && minor < 6)) {
  process.stderr.write(
    `level=fatal msg="vigil needs Node.js 24 or newer (this is ${process.version}): run it as 'npx vigil …' after 'npm install', which brings its own Node"\n`,
  );
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
const { processIo } = await import('../src/cli/io.ts');
const code = await main(process.argv.slice(2), processIo());
process.exitCode = code;
// serve keeps no handles after close; other commands are done: leave promptly.
if (process.argv[2] !== 'serve') process.exit(code);
