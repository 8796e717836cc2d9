#!/usr/bin/env node
// Launcher for the `upshift` bin: Node >= 24 runs the TypeScript source directly (type stripping).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`upshift needs Node.js >= 24 (found ${process.versions.node}); run it via npm/npx or put Node 24 first on PATH\n`);
  process.exit(2);
}
const { main, quietKafkajsTimerWarning } = await import('../src/upshift.ts');
quietKafkajsTimerWarning();
process.exitCode = await main(process.argv.slice(2));
