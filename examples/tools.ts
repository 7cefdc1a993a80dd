// A host tools file: functions that run on the host and that the agent in the sandbox calls
// as MCP tools (the server `cagebench`). Give it to a run with `--tools examples/tools.ts`,
// `tools:` in a config file or a suite, or `run({ tools: [...] })`.
//
//   npx cagebench run tasks/suites/smoke --agent claude_code --model anthropic/claude-sonnet-4-5 --tools examples/tools.ts
//
// Every call is a `tool.call` event in the sample's events.jsonl, counted in result.json's
// `toolCalls`; a tool that throws is a tool error the agent reads, not a failed sample.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineTool } from 'cagebench';

/** A value the sandbox cannot compute: a digest with a salt only the host holds. */
export const fingerprint = defineTool({
  name: 'fingerprint',
  description: 'The fingerprint of a text, as the grading service computes it.',
  parameters: z.object({ text: z.string().describe('The text to fingerprint.') }),
  run: ({ text }, ctx) => createHash('sha256').update(`host-salt:${ctx.taskId}:${text}`).digest('hex').slice(0, 16),
});

/** An object result reaches the agent as JSON text. */
export const lookupPrice = defineTool({
  name: 'lookup_price',
  description: 'The price of a product in the catalogue, by SKU.',
  parameters: z.object({ sku: z.string().regex(/^[A-Z]{3}-\d{3}$/, 'a SKU such as ABC-123') }),
  async run({ sku }, { signal }) {
    const catalogue: Record<string, number> = { 'ABC-123': 9.5, 'XYZ-001': 120 };
    if (signal.aborted) throw new Error('cancelled');
    if (!(sku in catalogue)) throw new Error(`no product ${sku}`); // the agent gets this message as a tool error
    return { sku, priceUsd: catalogue[sku] };
  },
});
