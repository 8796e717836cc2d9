/**
 * Catalog SQL read by PostgreSQL's own parser and lexer (libpg-query: the server's grammar compiled to
 * WebAssembly), so what is checked here is what the server will read, quoting rules included
 * (`E'\''`, dollar quotes, nested comments): a backfill assignment, a guard or a `where` is exactly one
 * expression, an invariant exactly one read-only SELECT, a column type exactly one type name, and no
 * fragment calls a function of the deny-list unless its catalog entry says `trusted: true`. Pure: no
 * I/O; the parser is instantiated once when this module loads. The engines add a second wall: every
 * statement goes through the extended protocol (one statement per call, see postgres/session.ts).
 */
import { loadModule, parseSync, scanSync } from 'libpg-query';

await loadModule();

/**
 * The characters of a PostgreSQL column type as written in DDL: a type name of up to four words, optionally
 * schema-qualified (`bigint`, `double precision`, `timestamp with time zone`, `public.money_t`), optional
 * `(n)` or `(p,s)` (also inside, as in `timestamp(3) with time zone`), optional `[]`. The words are checked
 * by `columnTypeProblem`, which has PostgreSQL's parser read the type as one type and nothing else.
 */
export const sqlTypePattern = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?( [a-z_][a-z0-9_]*){0,3}( ?\([0-9]{1,4}( ?, ?[0-9]{1,4})?\))?( [a-z_][a-z0-9_]*){0,3}(\[\])?$/;

/** How a fragment is used: a value (`set`), a condition (`where`, `guard`) or a whole query (an invariant). */
export type SqlFragmentKind = 'expression' | 'condition' | 'query';

type AstNode = Record<string, unknown>;
interface Statement {
  kind: string;
  node: AstNode;
}

/**
 * Functions a catalog fragment may not call without `trusted: true`: they end or signal sessions, sleep,
 * take advisory locks, change settings, read or write server files and large objects, open connections
 * elsewhere, run SQL given as text, or act on replication, WAL and backups.
 */
export const deniedFunctionNames: ReadonlySet<string> = new Set([
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_promote',
  'pg_switch_wal', 'pg_create_restore_point', 'pg_log_backend_memory_contexts', 'pg_notify',
  'set_config', 'setval', 'pg_stat_file', 'pg_import_system_collations', 'loread', 'lowrite', 'copy',
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema',
]);

/** Name prefixes of denied function families (`dblink_exec`, `lo_import`, `pg_advisory_lock`, `pg_sleep_for`…). */
export const deniedFunctionPrefixes: readonly string[] = [
  'dblink', 'lo_', 'pg_sleep', 'pg_advisory', 'pg_try_advisory', 'pg_read_', 'pg_ls_', 'pg_file_',
  'pg_stat_reset', 'pg_replication_', 'pg_logical_', 'pg_create_', 'pg_drop_', 'pg_backup_', 'pg_wal_replay_',
  'table_to_xml', 'schema_to_xml', 'database_to_xml',
];

/** True when calling `name` (lowercase, without schema) needs `trusted: true`. */
export function isDeniedFunction(name: string): boolean {
  return deniedFunctionNames.has(name) || deniedFunctionPrefixes.some((prefix) => name.startsWith(prefix));
}

/** Why `sql` is not a single expression that may stand in parentheses in a statement upshift builds, or null. */
export function expressionProblem(sql: string): string | null {
  const result = readExpression(sql);
  return 'problem' in result ? result.problem : null;
}

/** Why `sql` is not a single boolean condition (`where`, `guard`), or null. The server checks its type at preflight. */
export function conditionProblem(sql: string): string | null {
  const result = readExpression(sql);
  if ('problem' in result) return result.problem;
  const constant = result.value['A_Const'] as AstNode | undefined;
  if (constant && !('boolval' in constant) && constant['isnull'] !== true) return 'must be a boolean condition, like status = \'open\' (this is a constant of another type)';
  return null;
}

/** The one expression of `sql` as PostgreSQL reads `SELECT (<sql>)`, or why it is not exactly one. */
function readExpression(sql: string): { value: AstNode } | { problem: string } {
  const lexical = textProblem(sql) ?? tokenProblem(sql, { inExpression: true });
  if (lexical) return { problem: `must be a single expression: ${lexical}` };
  const parsed = parseStatements(`SELECT (${sql})`);
  // The server's message about the fragment as written, not about the parentheses around it.
  if (typeof parsed === 'string') return { problem: `must be a single expression: ${asWritten(sql, parsed)}` };
  const only = parsed[0];
  if (parsed.length !== 1 || !only) return { problem: `must be a single expression: it holds ${parsed.length} statements` };
  const value = only.kind === 'SelectStmt' ? singleTarget(only.node) : undefined;
  if (!value) return { problem: 'must be a single expression (not a list, an alias or a query clause)' };
  const problem = readOnlyProblem(only);
  return problem ? { problem } : { value };
}

/** Why `sql` is not exactly one read-only SELECT (no data-modifying WITH, no SELECT INTO, no FOR UPDATE), or null. */
export function queryProblem(sql: string): string | null {
  const lexical = textProblem(sql) ?? tokenProblem(sql, { inExpression: false });
  if (lexical) return `must be one SELECT statement: ${lexical}`;
  const parsed = parseStatements(sql);
  if (typeof parsed === 'string') return `must be one SELECT statement: ${parsed}`;
  const only = parsed[0];
  if (parsed.length !== 1 || !only) return `must be one SELECT statement: it holds ${parsed.length} statements`;
  if (only.kind !== 'SelectStmt') return `must be one SELECT statement, not ${statementName(only.kind)}`;
  return readOnlyProblem(only);
}

/** The problem of a fragment used as `kind`, or null. */
export function fragmentProblem(sql: string, kind: SqlFragmentKind): string | null {
  if (kind === 'expression') return expressionProblem(sql);
  return kind === 'condition' ? conditionProblem(sql) : queryProblem(sql);
}

/** The functions of the deny-list that `sql` (used as `kind`) calls, sorted, each once; empty when it does not parse. */
export function deniedFunctionCalls(sql: string, kind: SqlFragmentKind): string[] {
  const parsed = parseStatements(kind === 'query' ? sql : `SELECT (${sql})`);
  if (typeof parsed === 'string') return [];
  const denied = new Set<string>();
  for (const node of nodesOf(parsed.map((statement) => ({ [statement.kind]: statement.node })))) {
    const call = node['FuncCall'] as AstNode | undefined;
    if (!call) continue;
    const name = functionName(call);
    if (isDeniedFunction(name)) denied.add(name);
  }
  return [...denied].sort();
}

/**
 * Why `type` is not a bare column type, or null: a type name (optionally schema-qualified, possibly
 * several words like `double precision`), optional `(n)` or `(p,s)`, optional `[]` — checked with
 * `sqlTypePattern` and by PostgreSQL's parser reading `NULL::<type>` as exactly one cast to a type and
 * nothing else, so `bigint unique`, `text references users` or `text default current_user` (constraints
 * that DDL would run) are refused.
 */
export function columnTypeProblem(type: string): string | null {
  if (type.length > 100 || !sqlTypePattern.test(type)) {
    return 'must be only a column type (a type name, optional (n) or (p,s), optional []), like bigint, numeric(12,2), timestamp with time zone or text[]';
  }
  const parsed = parseStatements(`SELECT NULL::${type}`);
  const only = typeof parsed !== 'string' && parsed.length === 1 && parsed[0]?.kind === 'SelectStmt' ? singleTarget(parsed[0].node) : undefined;
  const cast = only?.['TypeCast'] as AstNode | undefined;
  if (!cast || !isNullConstant(cast['arg']) || !isBareTypeName(cast['typeName'])) {
    return `must be only a column type: PostgreSQL reads "${type}" as more than a type (constraints, defaults and collations are not allowed here)`;
  }
  return null;
}

function textProblem(sql: string): string | null {
  if (sql.trim() === '') return 'it is empty';
  if (sql.includes('\u0000')) return 'it contains a NUL character';
  return null;
}

/**
 * Lexical rules, on the server's own tokens: no `;`, no `$n` parameters (they would bind to upshift's own
 * values); in an expression also no comments (a trailing `--` would swallow the rest of the statement it
 * is placed in) and balanced brackets (so `a) OR (true` cannot escape its parentheses).
 */
function tokenProblem(sql: string, options: { inExpression: boolean }): string | null {
  let tokens: Array<{ text: string; tokenName: string }>;
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return null; // the scanner fails on unterminated literals and comments: the parser then names the error
  }
  let depth = 0;
  for (const token of tokens) {
    if (token.text === ';') return '";" is not allowed (one statement only)';
    if (token.tokenName === 'PARAM') return `parameters like ${token.text} are not allowed`;
    if (!options.inExpression) continue;
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') return 'SQL comments are not allowed';
    if (token.text === '(' || token.text === '[') depth += 1;
    if (token.text === ')' || token.text === ']') depth -= 1;
    if (depth < 0) return `unbalanced "${token.text}"`;
  }
  return depth === 0 ? null : 'unbalanced brackets';
}

/** Recent parses: the schema and the rules read the same fragment; entries are never mutated. */
const recentParses = new Map<string, Statement[] | string>();

/** The statements PostgreSQL reads in `sql`, or why it cannot read them. */
function parseStatements(sql: string): Statement[] | string {
  let parsed = recentParses.get(sql);
  if (parsed === undefined) {
    if (recentParses.size >= 256) recentParses.clear();
    parsed = parseUncached(sql);
    recentParses.set(sql, parsed);
  }
  return parsed;
}

function parseUncached(sql: string): Statement[] | string {
  try {
    const result = parseSync(sql) as { stmts?: Array<{ stmt?: AstNode }> };
    return (result.stmts ?? []).map(({ stmt }) => {
      const [kind, node] = Object.entries(stmt ?? {})[0] ?? ['', {}];
      return { kind, node: (node ?? {}) as AstNode };
    });
  } catch (error) {
    return `PostgreSQL cannot parse it: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The parse error of `SELECT <sql>` when there is one, else `wrapped` (the error of `SELECT (<sql>)`). */
function asWritten(sql: string, wrapped: string): string {
  const plain = parseStatements(`SELECT ${sql}`);
  return typeof plain === 'string' ? plain : wrapped;
}

/** The value of a SELECT that is exactly `SELECT <one unnamed value>` (no FROM, WHERE, alias…), else undefined. */
function singleTarget(select: AstNode): AstNode | undefined {
  const bare = Object.keys(select).every((key) => key === 'targetList' || key === 'limitOption' || key === 'op');
  const targets = select['targetList'];
  if (!bare || select['op'] !== 'SETOP_NONE' || !Array.isArray(targets) || targets.length !== 1) return undefined;
  const target = (targets[0] as AstNode)['ResTarget'] as AstNode | undefined;
  if (!target || 'name' in target || 'indirection' in target) return undefined;
  return target['val'] as AstNode | undefined;
}

/** Anything but reading: other statements in a WITH or a sub-query, SELECT INTO, locking clauses. */
function readOnlyProblem(statement: Statement): string | null {
  for (const node of nodesOf([{ [statement.kind]: statement.node }])) {
    for (const [key, value] of Object.entries(node)) {
      if (key.endsWith('Stmt') && key !== 'SelectStmt') return `must only read: ${statementName(key)} is not allowed`;
      if (key === 'ParamRef') return 'parameters like $1 are not allowed';
      if (key !== 'SelectStmt') continue;
      if ((value as AstNode)['intoClause']) return 'must only read: SELECT INTO is not allowed';
      if ((value as AstNode)['lockingClause']) return 'must only read: locking clauses (FOR UPDATE, FOR SHARE) are not allowed';
    }
  }
  return null;
}

/** Every object node of the trees, iteratively (deeply nested input cannot overflow the stack). */
function* nodesOf(roots: unknown[]): Generator<AstNode> {
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
    } else if (value !== null && typeof value === 'object') {
      yield value as AstNode;
      stack.push(...Object.values(value));
    }
  }
}

function functionName(call: AstNode): string {
  const names = Array.isArray(call['funcname']) ? (call['funcname'] as AstNode[]) : [];
  const last = names.at(-1)?.['String'] as AstNode | undefined;
  return String(last?.['sval'] ?? '').toLowerCase();
}

/** `DeleteStmt` → `DELETE`, `CreateTableAsStmt` → `CREATE TABLE AS`. */
function statementName(kind: string): string {
  return kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

function isNullConstant(node: unknown): boolean {
  const constant = (node as AstNode | undefined)?.['A_Const'] as AstNode | undefined;
  return constant?.['isnull'] === true;
}

function isBareTypeName(node: unknown): boolean {
  const typeName = node as AstNode | undefined;
  if (!typeName || !Object.keys(typeName).every((key) => ['names', 'typmods', 'typemod', 'arrayBounds', 'location'].includes(key))) return false;
  const names = typeName['names'];
  const typmods = typeName['typmods'] ?? [];
  return Array.isArray(names) && names.every((name) => typeof ((name as AstNode)['String'] as AstNode | undefined)?.['sval'] === 'string')
    && Array.isArray(typmods) && typmods.every((modifier) => 'ival' in (((modifier as AstNode)['A_Const'] as AstNode | undefined) ?? {}));
}
