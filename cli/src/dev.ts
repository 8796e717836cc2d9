/**
 * `upshift dev [--duplicate]`: the catalogue's functions as local HTTP servers (ports 8081–8084) plus the
 * dispatcher that does what KafkaSources do in a cluster. Functions not built yet are named and left out.
 */
import { catalogueFunctions, devCommand } from '@upshift/runtime/dev';

/** Runs until SIGINT/SIGTERM; exit code 0 after a clean stop. */
export async function runDevCommand(args: readonly string[]): Promise<number> {
  if (args.includes('--help')) {
    process.stdout.write('usage: upshift dev [--duplicate]\n  --duplicate  deliver every event twice (exactly-once checks)\n');
    return 0;
  }
  const { present, missing } = catalogueFunctions(import.meta.resolve);
  if (missing.length > 0) process.stderr.write(`upshift dev: not built yet, not started: ${missing.join(', ')}\n`);
  return devCommand({ duplicate: args.includes('--duplicate'), functions: present });
}
