// tsconfig.core.json maps the module "vscode" to this file, which is not a
// module: an `import 'vscode'` in the core (engine, logs, diagnosis, worker,
// CLI) fails to compile with "is not a module". Only src/extension may import it.
declare const coreHasNoVscode: never;
