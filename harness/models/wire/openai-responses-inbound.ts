// The Responses API served to agents (Codex): parse its requests, render responses and the
// event stream, remember which flat tool names were namespaced. See openai-responses-common.ts.
import { randomBytes } from 'node:crypto';
import type { ContentPart, ModelRequest, ModelResponse, StopReason, StreamEvent, ToolChoice, ToolSpec, Usage } from '../canonical.ts';
import type { InboundWire, SseEvent } from '../wire.ts';
import { array, invalid, isRecord, nonEmptyString, optionalString, record, string, type Json } from './fields.ts';
import { openaiRequest, optionalCount, parameters, parseEffort, pushToolResult, renderOpenaiError, type DraftMessage } from './openai-common.ts';
import { flatToolName, messageContent, reasoningText, responsesUsage, toolOutput, type NamespacedName, type ReasoningDeltaWithEncrypted } from './openai-responses-common.ts';
import { WireError } from './wire-error.ts';

/** Flattened names remembered per inbound wire; the oldest go first past this many. */
const MAX_NAMESPACED_NAMES = 4096;

const HOSTED_ITEMS = /_call(_output)?$|^compaction|^tool_search/;

export interface OpenaiResponsesInbound extends InboundWire {
  readonly api: 'openai-responses';
  /** The (namespace, name) a flattened tool name came from, if a parsed request declared one. */
  namespaceOf(flatName: string): NamespacedName | undefined;
}

/** A Responses inbound wire with its own memory of flattened namespace tools. */
export function createOpenaiResponsesInbound(): OpenaiResponsesInbound {
  const namespaced = new Map<string, NamespacedName>();
  const remember = (flat: string, split: NamespacedName): void => {
    namespaced.delete(flat);
    namespaced.set(flat, split);
    if (namespaced.size > MAX_NAMESPACED_NAMES) namespaced.delete(namespaced.keys().next().value!);
  };
  const namespaceOf = (flat: string): NamespacedName | undefined => namespaced.get(flat);
  return {
    api: 'openai-responses',
    namespaceOf,
    parseRequest: (body, context) => parseRequest(body, context, remember),
    renderResponse: (response) => renderResponse(response, namespaceOf),
    createStreamRenderer: () => createStreamRenderer(namespaceOf),
    renderError: renderOpenaiError,
  };
}

/** The Responses wire served to agents, with its own memory of flattened namespace tools. */
export const openaiResponsesInbound: OpenaiResponsesInbound = createOpenaiResponsesInbound();

type Remember = (flat: string, split: NamespacedName) => void;
type NamespaceOf = (flat: string) => NamespacedName | undefined;

function parseRequest(body: unknown, context: { readonly model?: string; readonly stream?: boolean }, remember: Remember): ModelRequest {
  const b = record(body, 'body');
  const model = nonEmptyString(b.model ?? context.model, 'model');
  for (const key of ['previous_response_id', 'conversation'] as const) {
    if (b[key] !== undefined && b[key] !== null) throw new WireError(`${key} is not supported: the bridge keeps no responses; send the whole conversation in "input" (got ${JSON.stringify(b[key])})`);
  }
  const dropped: string[] = [];
  const system: string[] = [];
  const instructions = optionalString(b.instructions, 'instructions');
  if (instructions) system.push(instructions);
  const messages = parseInput(b.input, system, dropped);
  const tools = parseTools(b.tools, dropped, remember);
  const toolChoice = parseToolChoice(b.tool_choice, dropped);
  const reasoning = b.reasoning === undefined || b.reasoning === null ? {} : record(b.reasoning, 'reasoning');
  const effort = parseEffort(reasoning.effort, 'reasoning.effort', dropped);
  const maxTokens = optionalCount(b.max_output_tokens, 'max_output_tokens');
  const format = isRecord(b.text) && isRecord(b.text.format) ? b.text.format.type : undefined;
  if (format !== undefined && format !== 'text') dropped.push(`text.format: ${String(format)} is not enforced`);
  if (b.max_tool_calls !== undefined && b.max_tool_calls !== null) dropped.push('max_tool_calls: not supported, ignored');
  return openaiRequest(b, context, { model, system, messages, tools, toolChoice, maxTokens, effort, dropped });
}

/**
 * Items to canonical messages. Consecutive assistant-side items (reasoning, assistant
 * messages, function calls) make one assistant message; consecutive function outputs make one
 * user message; each user message item stays its own message.
 */
function parseInput(input: unknown, system: string[], dropped: string[]): DraftMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: [{ type: 'text', text: input }] }];
  const messages: DraftMessage[] = [];
  const callNames = new Map<string, string>();
  const assistant = (part: ContentPart): void => {
    const last = messages.at(-1);
    if (last?.role === 'assistant') last.content.push(part);
    else messages.push({ role: 'assistant', content: [part] });
  };
  const call = (callId: string, name: string, args: string): void => {
    callNames.set(callId, name);
    assistant({ type: 'tool_call', id: callId, name, arguments: args });
  };
  const result = (callId: string, content: ContentPart[]): void => {
    const name = callNames.get(callId);
    pushToolResult(messages, { type: 'tool_result', callId, ...(name === undefined ? {} : { name }), content });
  };

  array(input ?? [], 'input').forEach((raw, i) => {
    const path = `input[${i}]`;
    const item = record(raw, path);
    const type = item.type ?? (item.role === undefined ? undefined : 'message');
    switch (type) {
      case 'message': {
        const role = item.role;
        if (role === 'system' || role === 'developer') {
          if (messages.length > 0) dropped.push(`${path}: a ${role} message after the conversation started was moved into the system prompt`);
          system.push(messageContent(item.content, `${path}.content`, dropped).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n'));
        } else if (role === 'user') {
          messages.push({ role: 'user', content: messageContent(item.content, `${path}.content`, dropped) });
        } else if (role === 'assistant') {
          for (const part of messageContent(item.content, `${path}.content`, dropped)) if (part.type === 'text') assistant(part);
        } else {
          throw invalid(`${path}.role`, 'one of user, assistant, system, developer', role);
        }
        break;
      }
      case 'function_call': {
        const name = nonEmptyString(item.name, `${path}.name`);
        const namespace = optionalString(item.namespace, `${path}.namespace`);
        call(nonEmptyString(item.call_id, `${path}.call_id`), namespace ? flatToolName(namespace, name) : name, string(item.arguments ?? '', `${path}.arguments`));
        break;
      }
      case 'function_call_output':
        result(nonEmptyString(item.call_id, `${path}.call_id`), toolOutput(item.output, `${path}.output`, dropped));
        break;
      case 'custom_tool_call': {
        const name = nonEmptyString(item.name, `${path}.name`);
        const namespace = optionalString(item.namespace, `${path}.namespace`);
        dropped.push(`${path}: custom tool call "${name}" sent as a function call with {"input": ...}`);
        call(nonEmptyString(item.call_id, `${path}.call_id`), namespace ? flatToolName(namespace, name) : name, JSON.stringify({ input: string(item.input ?? '', `${path}.input`) }));
        break;
      }
      case 'custom_tool_call_output':
        result(nonEmptyString(item.call_id, `${path}.call_id`), toolOutput(item.output, `${path}.output`, dropped));
        break;
      case 'reasoning': {
        const text = reasoningText(item, path);
        const encrypted = optionalString(item.encrypted_content, `${path}.encrypted_content`);
        if (text || encrypted) assistant({ type: 'reasoning', text, ...(encrypted ? { encrypted } : {}) });
        break;
      }
      case 'item_reference':
        throw new WireError(`${path}: item_reference is not supported: the bridge keeps no responses; send the item itself`);
      case undefined:
        throw invalid(`${path}.type`, 'an item type (message, function_call, function_call_output, reasoning, ...)', item.type);
      default:
        dropped.push(`${path}: ${typeof type === 'string' && HOSTED_ITEMS.test(type) ? 'hosted tool item' : 'item'} ${JSON.stringify(type)} dropped`);
    }
  });
  return messages;
}

function parseTools(value: unknown, dropped: string[], remember: Remember): ToolSpec[] {
  if (value === undefined || value === null) return [];
  const tools: ToolSpec[] = [];
  const add = (spec: ToolSpec, path: string): void => {
    if (tools.some((t) => t.name === spec.name)) dropped.push(`${path}: a second tool named "${spec.name}" dropped`);
    else tools.push(spec);
  };
  array(value, 'tools').forEach((raw, i) => {
    const path = `tools[${i}]`;
    const tool = record(raw, path);
    switch (tool.type) {
      case 'function':
        add(functionTool(tool, path), path);
        break;
      case 'namespace': {
        const namespace = nonEmptyString(tool.name, `${path}.name`);
        const description = optionalString(tool.description, `${path}.description`);
        array(tool.tools, `${path}.tools`).forEach((rawChild, j) => {
          const at = `${path}.tools[${j}]`;
          const child = record(rawChild, at);
          if (child.type !== 'function') {
            dropped.push(`${at}: a ${String(child.type)} tool in namespace "${namespace}" is not supported`);
            return;
          }
          const spec = functionTool(child, at);
          const flat = flatToolName(namespace, spec.name);
          remember(flat, { namespace, name: spec.name });
          add({ ...spec, name: flat, ...(spec.description === undefined && description !== undefined ? { description } : {}) }, at);
        });
        break;
      }
      case 'custom':
        dropped.push(`${path}: custom (free-form) tool ${JSON.stringify(tool.name)} is not supported`);
        break;
      default:
        if (typeof tool.type !== 'string') throw invalid(`${path}.type`, 'a tool type (function, namespace, web_search, ...)', tool.type);
        dropped.push(`${path}: hosted tool ${tool.type} is not supported`);
    }
  });
  return tools;
}

function functionTool(tool: Json, path: string): ToolSpec {
  const description = optionalString(tool.description, `${path}.description`);
  return { name: nonEmptyString(tool.name, `${path}.name`), ...(description === undefined ? {} : { description }), parameters: parameters(tool.parameters, `${path}.parameters`) };
}

function parseToolChoice(value: unknown, dropped: string[]): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  if (isRecord(value) && value.type === 'function') {
    const name = nonEmptyString(value.name, 'tool_choice.name');
    const namespace = optionalString(value.namespace, 'tool_choice.namespace');
    return { type: 'tool', name: namespace ? flatToolName(namespace, name) : name };
  }
  if (isRecord(value) && typeof value.type === 'string') {
    dropped.push(`tool_choice: ${value.type} is not supported; auto applies`);
    return undefined;
  }
  throw invalid('tool_choice', 'one of "auto", "none", "required" or {type: "function", name}', value);
}

type Status = 'in_progress' | 'completed' | 'incomplete' | 'failed';

function statusOf(stopReason: StopReason): Status {
  return stopReason === 'max_tokens' ? 'incomplete' : stopReason === 'error' ? 'failed' : 'completed';
}

function responseObject(id: string, model: string, createdAt: number, status: Status, output: readonly Json[], usage: Usage | undefined): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: status === 'failed' ? { code: 'server_error', message: 'the model stopped with an error' } : null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    max_output_tokens: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    usage: usage ? responsesUsage(usage) : null,
    metadata: {},
  };
}

/** Item ids: one random stem per response, then the output index. */
function itemIds(): (prefix: 'msg' | 'rs' | 'fc', outputIndex: number) => string {
  const stem = randomBytes(12).toString('hex');
  return (prefix, outputIndex) => `${prefix}_${stem}${outputIndex.toString().padStart(3, '0')}`;
}

const outputText = (text: string): Json => ({ type: 'output_text', text, annotations: [], logprobs: [] });

function messageItem(id: string, text: string, refused: boolean, status: Status = 'completed'): Json {
  return { id, type: 'message', status, role: 'assistant', content: [refused ? { type: 'refusal', refusal: text } : outputText(text)] };
}

function reasoningItem(id: string, text: string, encrypted: string | undefined): Json {
  return { id, type: 'reasoning', summary: text ? [{ type: 'summary_text', text }] : [], ...(encrypted ? { encrypted_content: encrypted } : {}) };
}

function functionCallItem(id: string, callId: string, flat: string, args: string, namespaceOf: NamespaceOf, status: Status = 'completed'): Json {
  const split = namespaceOf(flat);
  return { id, type: 'function_call', status, call_id: callId, name: split?.name ?? flat, ...(split ? { namespace: split.namespace } : {}), arguments: args };
}

function renderResponse(response: ModelResponse, namespaceOf: NamespaceOf): unknown {
  const ids = itemIds();
  const refused = response.stopReason === 'refusal';
  const output: Json[] = [];
  for (const part of response.content) {
    const n = output.length;
    if (part.type === 'text') output.push(messageItem(ids('msg', n), part.text, refused));
    else if (part.type === 'reasoning') output.push(reasoningItem(ids('rs', n), part.text, part.encrypted));
    else if (part.type === 'tool_call') output.push(functionCallItem(ids('fc', n), part.id, part.name, part.arguments, namespaceOf));
  }
  return responseObject(response.id, response.model, Math.floor(Date.now() / 1000), statusOf(response.stopReason), output, response.usage);
}

/**
 * Canonical events to the Responses event sequence: created, in_progress, then per block
 * output_item.added ... output_item.done, then completed (incomplete, failed) with the whole
 * response. Text already streamed cannot be recalled, so a refusal shows as `refusal` parts
 * only in the final response.
 */
function createStreamRenderer(namespaceOf: NamespaceOf): (event: StreamEvent) => readonly SseEvent[] {
  const ids = itemIds();
  const createdAt = Math.floor(Date.now() / 1000);
  let sequence = 0;
  let id = '';
  let model = '';
  interface Block {
    readonly kind: 'text' | 'reasoning' | 'tool_call';
    readonly outputIndex: number;
    readonly itemId: string;
    text: string;
    encrypted?: string;
    summaryOpen: boolean;
    callId: string;
    name: string;
    done: boolean;
  }
  const blocks = new Map<number, Block>();
  const output: Json[] = [];
  const ev = (type: string, payload: Json): SseEvent => ({ event: type, data: JSON.stringify({ type, sequence_number: sequence++, ...payload }) });

  const finalItem = (b: Block, refused: boolean): Json =>
    b.kind === 'text'
      ? messageItem(b.itemId, b.text, refused)
      : b.kind === 'reasoning'
        ? reasoningItem(b.itemId, b.text, b.encrypted)
        : functionCallItem(b.itemId, b.callId, b.name, b.text, namespaceOf);

  const end = (b: Block): SseEvent[] => {
    if (b.done) return [];
    b.done = true;
    const at = { item_id: b.itemId, output_index: b.outputIndex };
    const out: SseEvent[] = [];
    if (b.kind === 'text') {
      out.push(ev('response.output_text.done', { ...at, content_index: 0, text: b.text, logprobs: [] }));
      out.push(ev('response.content_part.done', { ...at, content_index: 0, part: outputText(b.text) }));
    } else if (b.kind === 'reasoning' && b.summaryOpen) {
      out.push(ev('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: b.text }));
      out.push(ev('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: { type: 'summary_text', text: b.text } }));
    } else if (b.kind === 'tool_call') {
      out.push(ev('response.function_call_arguments.done', { ...at, arguments: b.text, name: namespaceOf(b.name)?.name ?? b.name }));
    }
    output[b.outputIndex] = finalItem(b, false);
    out.push(ev('response.output_item.done', { output_index: b.outputIndex, item: output[b.outputIndex] }));
    return out;
  };

  return (e) => {
    switch (e.type) {
      case 'start':
        ({ id, model } = e);
        return [
          ev('response.created', { response: responseObject(id, model, createdAt, 'in_progress', [], undefined) }),
          ev('response.in_progress', { response: responseObject(id, model, createdAt, 'in_progress', [], undefined) }),
        ];
      case 'block_start': {
        const outputIndex = output.length;
        const kind = e.block.type;
        const b: Block = {
          kind,
          outputIndex,
          itemId: ids(kind === 'text' ? 'msg' : kind === 'reasoning' ? 'rs' : 'fc', outputIndex),
          text: '',
          summaryOpen: false,
          callId: e.block.type === 'tool_call' ? e.block.id : '',
          name: e.block.type === 'tool_call' ? e.block.name : '',
          done: false,
        };
        blocks.set(e.index, b);
        if (kind === 'text') {
          output.push({ id: b.itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] });
          return [
            ev('response.output_item.added', { output_index: outputIndex, item: output[outputIndex] }),
            ev('response.content_part.added', { item_id: b.itemId, output_index: outputIndex, content_index: 0, part: outputText('') }),
          ];
        }
        output.push(kind === 'reasoning' ? { id: b.itemId, type: 'reasoning', summary: [] } : functionCallItem(b.itemId, b.callId, b.name, '', namespaceOf, 'in_progress'));
        return [ev('response.output_item.added', { output_index: outputIndex, item: output[outputIndex] })];
      }
      case 'text_delta': {
        const b = blocks.get(e.index);
        if (b?.kind !== 'text' || b.done || !e.text) return [];
        b.text += e.text;
        return [ev('response.output_text.delta', { item_id: b.itemId, output_index: b.outputIndex, content_index: 0, delta: e.text, logprobs: [] })];
      }
      case 'reasoning_delta': {
        const b = blocks.get(e.index);
        if (b?.kind !== 'reasoning' || b.done) return [];
        const encrypted = (e as ReasoningDeltaWithEncrypted).encrypted;
        if (encrypted) b.encrypted = encrypted;
        if (!e.text) return [];
        const out: SseEvent[] = [];
        const at = { item_id: b.itemId, output_index: b.outputIndex, summary_index: 0 };
        if (!b.summaryOpen) {
          b.summaryOpen = true;
          out.push(ev('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } }));
        }
        b.text += e.text;
        out.push(ev('response.reasoning_summary_text.delta', { ...at, delta: e.text }));
        return out;
      }
      case 'tool_arguments_delta': {
        const b = blocks.get(e.index);
        if (b?.kind !== 'tool_call' || b.done || !e.json) return [];
        b.text += e.json;
        return [ev('response.function_call_arguments.delta', { item_id: b.itemId, output_index: b.outputIndex, delta: e.json })];
      }
      case 'block_end': {
        const b = blocks.get(e.index);
        return b ? end(b) : [];
      }
      case 'stop': {
        const out = [...blocks.values()].flatMap(end);
        const refused = e.stopReason === 'refusal';
        const final = [...blocks.values()].sort((a, b) => a.outputIndex - b.outputIndex).map((b) => finalItem(b, refused));
        const status = statusOf(e.stopReason);
        const type = status === 'incomplete' ? 'response.incomplete' : status === 'failed' ? 'response.failed' : 'response.completed';
        out.push(ev(type, { response: responseObject(id, model, createdAt, status, final, e.usage) }));
        return out;
      }
    }
  };
}
