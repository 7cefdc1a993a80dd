// A user's request filter, loaded from a JS/TS module that exports `filter`:
//
//   // my-filter.ts
//   export function filter(request, ctx) {
//     if (JSON.stringify(request.messages).includes('rm -rf /')) {
//       return { response: { id: 'blocked', model: request.model, stopReason: 'end_turn',
//         usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
//         content: [{ type: 'text', text: 'I will not run that.' }] } };   // answered, no model call
//     }
//     return { ...request, system: `${request.system ?? ''}\nBe brief.` };  // changed request
//     // return nothing to leave the request as it is
//   }
//
// It runs before every try of a call (retries and refusal retries included), always on the
// request as the agent sent it, in the canonical form of harness/models/canonical.ts.
import { resolve } from 'node:path';
import { importUserModule } from '../../scorers/index.ts';
import { ConfigError } from '../errors.ts';
import type { RequestFilter } from './session.ts';

export async function loadFilter(file: string | RequestFilter): Promise<RequestFilter> {
  if (typeof file === 'function') return file; // given in code (defineFilter)
  const path = resolve(file);
  let module: Record<string, unknown>;
  try {
    module = await importUserModule(path);
  } catch (cause) {
    throw new ConfigError(`--filter ${file}: cannot load ${path}: ${(cause as Error).message}`, { cause });
  }
  const filter = module.filter ?? (module.default as Record<string, unknown> | undefined)?.filter ?? module.default;
  if (typeof filter !== 'function') {
    throw new ConfigError(`--filter ${file}: the module must export a function named "filter" (found: ${Object.keys(module).join(', ') || 'no exports'})`);
  }
  return filter as RequestFilter;
}
