/** Serves the expander test function under faas-js-runtime (what Knative `func` runs for Node). */
import faas from 'faas-js-runtime';
import expander from '../functions/expander.ts';

await faas.start(expander as unknown as Parameters<typeof faas.start>[0], { port: Number(process.env['PORT']) });
process.stdout.write('ready\n');
