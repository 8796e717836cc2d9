/**
 * The process entry of a function:
 *   node --import ./runtime/src/telemetry/preload.ts runtime/src/host/entry.ts <module.ts>
 * Kept apart from main.ts on purpose: a function module imports @upshift/runtime, whose index imports
 * main.ts; if main.ts itself awaited the module at top level, that import cycle would never settle.
 */
import { runFunctionProcess } from './main.ts';

const modulePath = process.argv[2];
if (!modulePath) {
  process.stderr.write('usage: entry.ts <function-module.ts>\n');
  process.exit(64);
}
await runFunctionProcess(modulePath);
