/**
 * Which functions `upshift dev` runs and where their modules are: the events catalogue names them
 * (`FunctionName`), and each is the package `@upshift/fn-<name>` whose main export is its module
 * (`export default defineFunction(...)`). Modules are found by resolving that package like any import,
 * so the runtime does not know where a repository keeps its functions.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FunctionName } from '@upshift/events';
import type { DevFunctionSpec } from './functions.ts';

/** Resolves a specifier to a URL, like `import.meta.resolve` (pass the caller's to resolve from there). */
export type ResolveSpecifier = (specifier: string) => string;

/** The catalogue functions found, and those not installed or not built yet. */
export interface CatalogueFunctions {
  readonly present: DevFunctionSpec[];
  readonly missing: FunctionName[];
}

/** Local port of the first catalogue function; the others follow in catalogue order (8081–8084). */
const firstDevPort = 8081;

/** The package that holds a catalogue function: one rule for every function. */
export function functionPackage(name: FunctionName): string {
  return `@upshift/fn-${name}`;
}

/** Path of a catalogue function's module, or undefined when its package is not installed or its module not built. */
export function locateFunction(name: FunctionName, resolve: ResolveSpecifier = import.meta.resolve): string | undefined {
  let url: string;
  try {
    url = resolve(functionPackage(name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
  const path = fileURLToPath(url);
  return existsSync(path) ? path : undefined;
}

/** Every catalogue function at its default local port, split into those found and those missing. */
export function catalogueFunctions(resolve: ResolveSpecifier = import.meta.resolve): CatalogueFunctions {
  const present: DevFunctionSpec[] = [];
  const missing: FunctionName[] = [];
  FunctionName.options.forEach((name, index) => {
    const module = locateFunction(name, resolve);
    if (module) present.push({ name, module, port: firstDevPort + index });
    else missing.push(name);
  });
  return { present, missing };
}
