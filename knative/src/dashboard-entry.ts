/**
 * The dashboard image's process (bundled by dashboard-bundle.ts): `upshift dashboard` and nothing else of
 * the CLI, so the image carries neither the Kubernetes nor the MongoDB client. Its Deployment passes the
 * CLI's words (`dashboard --host 0.0.0.0 --port 8090`); settings come from the environment as for the CLI.
 */
import { runDashboard } from '../../cli/src/dashboard.ts';

const [command, ...args] = process.argv.slice(2);
if (command !== 'dashboard') {
  process.stderr.write(`this image runs \`upshift dashboard [options]\` only; got ${JSON.stringify(command ?? '')}\n`);
  process.exit(64);
}
process.exitCode = await runDashboard(args);
