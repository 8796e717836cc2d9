/**
 * kafkajs is an implementation detail of events/src/kafka: no exported declaration of @upshift/events
 * (every entry point of package.json "exports") may mention a kafkajs type, however deep (a parameter, a
 * return type, a property, a type argument), and no file under src/ outside src/kafka may import kafkajs.
 * Checked with the TypeScript compiler's type checker; a probe that leaks kafkajs shows the check fails.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = join(import.meta.dirname, '../..');
const exportsField = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string> }).exports;
const entryPoints = Object.values(exportsField).map((path) => join(root, path));

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2024, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true, allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true, resolveJsonModule: true, types: ['node'],
};

const isKafkajs = (declaration: ts.Declaration): boolean => /[\\/]node_modules[\\/]kafkajs[\\/]/.test(declaration.getSourceFile().fileName);
const isLibrary = (declaration: ts.Declaration): boolean => declaration.getSourceFile().isDeclarationFile;
/** A bound on the inferred types walked from one export; beyond it the walk is lost, not thorough. */
const walkLimit = 50_000;

/**
 * The kafkajs declarations an exported symbol reaches. upshift's own declarations are read as written: the
 * types named in a signature (parameters, return type, type parameters), an interface, a type alias or a
 * class's non-private members, and whatever those name, however deep; where a signature leaves a type to
 * inference (an unannotated const or return), the inferred type is walked instead. Library declarations
 * (Promise, Buffer, zod's, Node's) are not opened: the type arguments they are given are upshift's syntax.
 */
function kafkajsReachedFrom(checker: ts.TypeChecker, exported: ts.Symbol): string[] {
  const found = new Set<string>();
  const seenSymbols = new Set<ts.Symbol>();
  const seenTypes = new Set<ts.Type>();

  const visitSymbol = (symbol: ts.Symbol | undefined): void => {
    const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (target === undefined || seenSymbols.has(target)) return;
    seenSymbols.add(target);
    for (const declaration of target.declarations ?? []) {
      if (isKafkajs(declaration)) found.add(target.name);
      else if (!isLibrary(declaration)) visitDeclaration(declaration);
    }
  };

  /** Every type named inside `node` (a type, or a declaration without bodies). */
  const visitTypeNodes = (node: ts.Node | undefined): void => {
    if (node === undefined) return;
    if (ts.isTypeReferenceNode(node)) visitSymbol(checker.getSymbolAtLocation(node.typeName));
    else if (ts.isExpressionWithTypeArguments(node)) visitSymbol(checker.getSymbolAtLocation(node.expression));
    else if (ts.isTypeQueryNode(node)) visitSymbol(checker.getSymbolAtLocation(node.exprName));
    else if (ts.isImportTypeNode(node)) visitType(checker.getTypeFromTypeNode(node));
    ts.forEachChild(node, visitTypeNodes);
  };

  /** A signature's parameters, type parameters and return type; what it leaves to inference, by type. */
  const visitSignature = (node: ts.SignatureDeclaration): void => {
    node.typeParameters?.forEach(visitTypeNodes);
    for (const parameter of node.parameters) {
      if (parameter.type) visitTypeNodes(parameter.type);
      else visitType(checker.getTypeAtLocation(parameter));
    }
    if (node.type) visitTypeNodes(node.type);
    else for (const signature of checker.getTypeAtLocation(node).getCallSignatures()) visitType(checker.getReturnTypeOfSignature(signature));
  };

  const visitDeclaration = (node: ts.Declaration): void => {
    if (ts.isFunctionLike(node)) visitSignature(node);
    else if (ts.isVariableDeclaration(node) || ts.isPropertyDeclaration(node)) {
      if (node.type) visitTypeNodes(node.type);
      else visitType(checker.getTypeAtLocation(node.name));
    } else if (ts.isClassDeclaration(node)) {
      node.typeParameters?.forEach(visitTypeNodes);
      node.heritageClauses?.forEach(visitTypeNodes);
      const isPrivate = (member: ts.ClassElement): boolean => (member.name !== undefined && ts.isPrivateIdentifier(member.name))
        || (ts.getCombinedModifierFlags(member as ts.Declaration) & ts.ModifierFlags.Private) !== 0;
      for (const member of node.members.filter((m) => !isPrivate(m))) visitDeclaration(member);
    } else if (ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) visitType(checker.getTypeAtLocation(node.name));
    else if (!ts.isSourceFile(node) && !ts.isModuleDeclaration(node) && !ts.isClassStaticBlockDeclaration(node)) visitTypeNodes(node);
  };

  /** An inferred type: named types by their declarations, anonymous ones by their members. */
  const visitType = (type: ts.Type): void => {
    if (seenTypes.has(type)) return;
    seenTypes.add(type);
    assert.ok(seenTypes.size < walkLimit, `more than ${walkLimit} inferred types under ${exported.name}`);
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const named = symbol !== undefined && !symbol.name.startsWith('__');
    if (named) visitSymbol(symbol);
    type.aliasTypeArguments?.forEach(visitType);
    if ((type.flags & ts.TypeFlags.Object) !== 0 && ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) !== 0) {
      checker.getTypeArguments(type as ts.TypeReference).forEach(visitType);
    }
    if (type.isUnionOrIntersection()) type.types.forEach(visitType);
    if (named || symbol?.declarations?.every(isLibrary)) return;
    for (const property of checker.getPropertiesOfType(type)) {
      if (property.valueDeclaration && !isLibrary(property.valueDeclaration)) visitDeclaration(property.valueDeclaration);
      else visitType(checker.getTypeOfSymbol(property));
    }
    for (const signature of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
      const declaration = signature.declaration;
      if (declaration && !ts.isJSDocSignature(declaration) && !isLibrary(declaration)) visitSignature(declaration);
      else visitType(checker.getReturnTypeOfSignature(signature));
    }
  };

  visitSymbol(exported);
  return [...found];
}

/** `export name: kafkajs types` for every export of the entry points that mentions kafkajs. */
function leaksOf(program: ts.Program, entries: readonly string[]): string[] {
  const checker = program.getTypeChecker();
  const leaks: string[] = [];
  for (const entry of entries) {
    const sourceFile = program.getSourceFile(entry);
    assert.ok(sourceFile, `${entry} is in the program`);
    const module = checker.getSymbolAtLocation(sourceFile);
    assert.ok(module, `${entry} is a module`);
    for (const exported of checker.getExportsOfModule(module)) {
      const kafkajs = kafkajsReachedFrom(checker, exported);
      if (kafkajs.length > 0) leaks.push(`${relative(root, entry)} ${exported.name}: ${kafkajs.join(', ')}`);
    }
  }
  return leaks;
}

/** A program of `entries`, plus files held in memory (the probe). */
function programOf(entries: readonly string[], inMemory: Readonly<Record<string, string>> = {}): ts.Program {
  const host = ts.createCompilerHost(compilerOptions);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => file in inMemory || fileExists(file);
  host.readFile = (file) => inMemory[file] ?? readFile(file);
  host.getSourceFile = (file, language, ...rest) => {
    const text = inMemory[file];
    return text === undefined ? getSourceFile(file, language, ...rest) : ts.createSourceFile(file, text, language);
  };
  return ts.createProgram({ rootNames: [...entries, ...Object.keys(inMemory)], options: compilerOptions, host });
}

function sourceFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts')).map((name) => join(dir, name));
}

test('no export of @upshift/events mentions a kafkajs type (every entry point, however deep)', { timeout: 60_000 }, () => {
  assert.ok(entryPoints.length >= 2, `entry points: ${entryPoints.join(', ')}`);
  assert.deepEqual(leaksOf(programOf(entryPoints), entryPoints), []);
});

test('a kafkajs type in a parameter, a nested property, a type argument or an inferred type of an export is caught', { timeout: 60_000 }, () => {
  const probe = join(root, 'src/kafka/leak-probe.ts');
  const text = [
    "import type { Consumer, KafkaConfig, Producer } from 'kafkajs';",
    "export { brokersFrom } from './client.ts';",
    "export { createMissingTopics } from './topics.ts';",
    'export declare function connect(config: KafkaConfig): void;',
    'export interface Handle { readonly inner: { readonly producers: readonly Producer[] } }',
    'export declare const consumers: Promise<Map<string, Consumer>>;',
    'declare const consumer: Consumer;',
    'export const inferred = { nested: [consumer] };',
  ].join('\n');
  const leaks = leaksOf(programOf([probe], { [probe]: text }), [probe]).map((leak) => leak.split(':')[0]?.replace('src/kafka/leak-probe.ts ', ''));
  assert.deepEqual(leaks.sort(), ['Handle', 'connect', 'consumers', 'createMissingTopics', 'inferred']);
});

test('under src/, only src/kafka imports kafkajs', () => {
  const importers = sourceFilesUnder(join(root, 'src'))
    .filter((file) => ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.some((i) => i.fileName === 'kafkajs' || i.fileName.startsWith('kafkajs/')))
    .map((file) => relative(root, file));
  assert.ok(importers.length > 0, 'src/kafka uses kafkajs');
  assert.deepEqual(importers.filter((file) => !file.startsWith(`${join('src', 'kafka')}${sep}`)), []);
});
