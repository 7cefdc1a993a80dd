// A ModelProvider: takes a canonical request (whatever API the agent spoke) and streams
// canonical events back; the bridge renders them in the agent's own API (Anthropic Messages,
// OpenAI Chat or Responses, Gemini). This one answers every call with a fixed text.
//
// How to serve it: createBridge({ providers }) takes providers by the prefix of `provider/model`,
// so a session opened with model `fixed/<name>` is answered by it. run() and the CLI build their
// bridge with the built-in providers only (openai/, anthropic/, mock/): a custom provider is
// served by a bridge you create, e.g. for an agent you start yourself.
//
//   npx tsx --tsconfig examples/tsconfig.json examples/model-provider.ts
import { createBridge, type ModelProvider, type ProviderCall, type StreamEvent } from 'cagebench';

function fixedTextProvider(text: string): ModelProvider {
  return {
    name: 'fixed',
    async *stream(call: ProviderCall): AsyncIterable<StreamEvent> {
      // call.request holds the messages, tools and settings; call.model the name after routing.
      const words = text.split(/(?<= )/);
      yield { type: 'start', id: `fixed-${Date.now()}`, model: call.model };
      yield { type: 'block_start', index: 0, block: { type: 'text' } };
      for (const word of words) {
        if (call.signal.aborted) return; // the agent went away
        yield { type: 'text_delta', index: 0, text: word };
      }
      yield { type: 'block_end', index: 0 };
      // `stop` comes last and carries the usage the bridge counts against the sample's limits.
      const inputTokens = JSON.stringify(call.request.messages).length >> 2;
      yield { type: 'stop', stopReason: 'end_turn', usage: { inputTokens, outputTokens: words.length, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } };
    },
  };
}

// Only our provider on this bridge (`providers` replaces the built-in ones).
await using bridge = await createBridge({ providers: { fixed: fixedTextProvider('The answer is 42.') } });
// One session per sample: its token is the agent's API key; every call goes to `model`.
const session = bridge.open({ sampleId: 'example', model: 'fixed/canned' });
try {
  // What an agent speaking OpenAI Chat Completions would send, as any OpenAI SDK would.
  const chat = await fetch(`${bridge.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
    body: JSON.stringify({ model: 'gpt-anything', messages: [{ role: 'user', content: 'What is the answer?' }] }),
  });
  const body = (await chat.json()) as { choices: { message: { content: string } }[] };
  console.log(`openai chat: ${body.choices[0]?.message.content}`);

  // The same provider, streamed to an agent speaking Anthropic Messages.
  const messages = await fetch(`${bridge.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': session.token, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-anything', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'And again?' }] }),
  });
  // Server-sent events in Anthropic's shape; the text arrives in content_block_delta events.
  let streamed = '';
  for (const line of (await messages.text()).split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6)) as { type: string; delta?: { text?: string } };
    if (event.type === 'content_block_delta') streamed += event.delta?.text ?? '';
  }
  console.log(`anthropic stream: ${streamed}`);

  const { requests, usage } = session.totals;
  console.log(`session: ${requests} calls, ${usage.inputTokens} input and ${usage.outputTokens} output tokens`);
} finally {
  bridge.closeSession(session);
}
