// Types of eslint.config.js for the TypeScript that imports it (test/lint/declared-imports.test.ts).
import type { Linter } from 'eslint';

/** The declared-imports rule blocks: one per workspace, each against its own package.json. */
export declare const declaredImports: Linter.Config[];
/** kafkajs only under runtime/src/transport and events/src/kafka (tests, stack and bench aside). */
export declare const kafkajsBoundary: Linter.Config;
declare const config: Linter.Config[];
export default config;
