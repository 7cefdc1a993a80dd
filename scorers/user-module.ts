// Importing a user's own module (a scorer, a filter, a config file, a tool): JavaScript
// natively, TypeScript through tsx's tsImport, loaded only then, so a compiled cagebench
// pays for no TypeScript loader it does not need.
import { pathToFileURL } from 'node:url';

export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (!/\.[cm]?tsx?$/.test(path)) return (await import(url)) as Record<string, unknown>;
  // Where TypeScript loads already (a tsx or vitest process), the module is the one everybody shares.
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
  }
  const { tsImport } = await import('tsx/esm/api');
  const mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  // A .ts file outside an ESM package is compiled as CommonJS: its exports arrive under `default`.
  const inner = mod.default as Record<string, unknown> | undefined;
  return inner && typeof inner === 'object' && inner.__esModule ? { ...inner } : mod;
}
