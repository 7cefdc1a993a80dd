// The Gemini API served to agents (Gemini CLI): parse GenerateContentRequests (the model and
// the streaming choice come from the path), render responses, SSE streams and Google's error
// body. The decisions both sides make are in gemini-common.ts.
import { z } from 'zod';
import type { GenerationConfig, JsonSchema, Message, ModelRequest, ModelResponse, StopReason, StreamEvent, ToolChoice, ToolSpec, Usage } from '../canonical.ts';
import type { InboundWire, SseEvent } from '../wire.ts';
import { ARRAY, array, atLeast, boolean, check, invalid, isRecord, nonEmptyArray, nonEmptyString, OBJECT, positiveInteger, record, string, strings, type Json } from './fields.ts';
import type { GeminiPart, GeminiResponse, GeminiUsage } from './gemini-common.ts';
import { argumentsToArgs, conversationIds, readParts, ReasoningCarry, renderParts } from './gemini-parts.ts';
import { WireError } from './wire-error.ts';

// ---------------------------------------------------------------------------------------------
// Parse what an agent sends

const REQUEST_FIELDS = new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig', 'model']);

const requestBody = check(OBJECT, 'a JSON object (a GenerateContentRequest)');
const systemContent = check(OBJECT, 'a Content object ({"parts": [{"text": ...}]})');
const jsonSchema = check(OBJECT, 'a JSON Schema object');
const schemaObject = check(OBJECT, 'a schema object');
const schemaList = check(ARRAY, 'an array of schemas');
const typeName = check(z.string(), 'a type name');
const functionNames = check(z.array(z.string().min(1)), 'an array of function names');
const nonNegative = atLeast(0);
const fraction = check(z.number().min(0).max(1), 'a number from 0 to 1');
const thinkingBudget = check(z.int().min(-1), 'an integer >= -1');

function parseRequest(raw: unknown, context: { readonly model?: string; readonly stream?: boolean }): ModelRequest {
  const body = requestBody(raw, 'the request body');
  const dropped: string[] = [];
  const model = (context.model ?? (typeof body.model === 'string' ? body.model : '')).replace(/^models\//, '');
  if (model === '') throw new WireError('model is missing: Gemini takes it from the path, POST /v1beta/models/{model}:generateContent');

  const contents = nonEmptyArray(body.contents, 'contents');
  const ids = conversationIds();
  const messages: Message[] = [];
  for (const [i, value] of contents.entries()) {
    const path = `contents[${i}]`;
    const item = record(value, path);
    const role = item.role === undefined || item.role === null || item.role === '' ? 'user' : item.role;
    if (role !== 'user' && role !== 'model') throw invalid(`${path}.role`, '"user" or "model"', item.role);
    const parts = nonEmptyArray(item.parts, `${path}.parts`);
    const content = readParts(parts, { path, role, ids, dropped, status: 400 });
    if (content.length > 0) messages.push({ role: role === 'model' ? 'assistant' : 'user', content });
  }

  for (const key of Object.keys(body)) if (!REQUEST_FIELDS.has(key) && body[key] !== undefined) dropped.push(key);
  const system = readSystem(body.systemInstruction, dropped);
  const toolChoice = readToolChoice(body.toolConfig, dropped);
  return {
    model,
    ...(system !== undefined && { system }),
    messages,
    tools: readTools(body.tools, dropped),
    ...(toolChoice && { toolChoice }),
    config: readConfig(body.generationConfig, dropped),
    stream: context.stream ?? false,
    ...(dropped.length > 0 && { dropped }),
  };
}

/** Text parts joined with a blank line; other parts are dropped and listed. */
function readSystem(value: unknown, dropped: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value; // the SDKs accept a bare string; be as kind
  const parts = array(systemContent(value, 'systemInstruction').parts, 'systemInstruction.parts');
  const texts: string[] = [];
  for (const [i, raw] of parts.entries()) {
    const part = record(raw, `systemInstruction.parts[${i}]`);
    if (typeof part.text === 'string') texts.push(part.text);
    else dropped.push(`systemInstruction.parts[${i}]: only text is carried`);
  }
  return texts.length > 0 ? texts.join('\n\n') : undefined;
}

/** Function declarations become tools; built-in tools (googleSearch, codeExecution, ...) are dropped. */
function readTools(value: unknown, dropped: string[]): ToolSpec[] {
  if (value === undefined || value === null) return [];
  const tools: ToolSpec[] = [];
  for (const [i, tool] of array(value, 'tools').entries()) {
    for (const [key, declarations] of Object.entries(record(tool, `tools[${i}]`))) {
      if (key !== 'functionDeclarations') {
        dropped.push(`tools[${i}].${key}`);
        continue;
      }
      for (const [j, decl] of array(declarations, `tools[${i}].functionDeclarations`).entries()) tools.push(readDeclaration(decl, `tools[${i}].functionDeclarations[${j}]`, dropped));
    }
  }
  return tools;
}

function readDeclaration(value: unknown, path: string, dropped: string[]): ToolSpec {
  const decl = record(value, path);
  const name = nonEmptyString(decl.name, `${path}.name`);
  const description = decl.description === undefined ? undefined : string(decl.description, `${path}.description`);
  if (decl.parameters !== undefined && decl.parametersJsonSchema !== undefined) {
    throw new WireError(`${path}: set parameters or parametersJsonSchema, not both`);
  }
  let parameters: JsonSchema = { type: 'object', properties: {} };
  if (decl.parameters !== undefined) parameters = openApiToJsonSchema(decl.parameters, `${path}.parameters`);
  else if (decl.parametersJsonSchema !== undefined) parameters = jsonSchema(decl.parametersJsonSchema, `${path}.parametersJsonSchema`);
  for (const key of ['response', 'responseJsonSchema', 'behavior']) if (decl[key] !== undefined) dropped.push(`${path}.${key}`);
  return { name, ...(description !== undefined && { description }), parameters };
}

const SCHEMA_TYPES: Readonly<Record<string, string>> = {
  STRING: 'string',
  NUMBER: 'number',
  INTEGER: 'integer',
  BOOLEAN: 'boolean',
  ARRAY: 'array',
  OBJECT: 'object',
  NULL: 'null',
};

/**
 * Gemini's `parameters` (an OpenAPI 3.0 subset: upper-case types, `nullable`, `propertyOrdering`)
 * as JSON Schema: lower-case types, `nullable` as a "null" type, `propertyOrdering` dropped
 * (it only orders Gemini's output). Other keywords are kept as given.
 */
export function openApiToJsonSchema(value: unknown, path: string): Json {
  const schema = schemaObject(value, path);
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    const at = `${path}.${key}`;
    switch (key) {
      case 'type': {
        const type = schemaType(value, at);
        if (type !== undefined) out.type = type;
        break;
      }
      case 'nullable':
      case 'propertyOrdering':
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(record(value, at)).map(([name, sub]) => [name, openApiToJsonSchema(sub, `${at}.${name}`)]));
        break;
      case 'items':
        out.items = openApiToJsonSchema(value, at);
        break;
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
        out[key] = schemaList(value, at).map((sub, i) => openApiToJsonSchema(sub, `${at}[${i}]`));
        break;
      case 'additionalProperties':
        out[key] = isRecord(value) ? openApiToJsonSchema(value, at) : value;
        break;
      default:
        out[key] = value;
    }
  }
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...(out.type as string[]), 'null'];
  }
  return out;
}

function schemaType(value: unknown, path: string): string | string[] | undefined {
  const one = (t: unknown): string | undefined => {
    const upper = typeName(t, path).toUpperCase();
    if (upper === 'TYPE_UNSPECIFIED') return undefined;
    const type = SCHEMA_TYPES[upper];
    if (type === undefined) throw invalid(path, `one of ${Object.keys(SCHEMA_TYPES).join(', ')}`, t);
    return type;
  };
  if (Array.isArray(value)) return value.map(one).filter((t): t is string => t !== undefined);
  return one(value);
}

/**
 * AUTO -> auto, NONE -> none, ANY -> required, or the one tool when `allowedFunctionNames`
 * names just one. VALIDATED is sent as auto; several allowed names as required; both are listed.
 */
function readToolChoice(value: unknown, dropped: string[]): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  const toolConfig = record(value, 'toolConfig');
  for (const key of Object.keys(toolConfig)) if (key !== 'functionCallingConfig') dropped.push(`toolConfig.${key}`);
  if (toolConfig.functionCallingConfig === undefined || toolConfig.functionCallingConfig === null) return undefined;
  const path = 'toolConfig.functionCallingConfig';
  const config = record(toolConfig.functionCallingConfig, path);
  const allowed = config.allowedFunctionNames === undefined ? [] : functionNames(config.allowedFunctionNames, `${path}.allowedFunctionNames`);
  const mode = config.mode ?? 'MODE_UNSPECIFIED';
  if (typeof mode !== 'string') throw invalid(`${path}.mode`, 'one of AUTO, ANY, NONE, VALIDATED', mode);
  switch (mode.toUpperCase()) {
    case 'MODE_UNSPECIFIED':
    case 'AUTO':
      if (allowed.length > 0) dropped.push(`${path}.allowedFunctionNames (only used with mode ANY)`);
      return mode.toUpperCase() === 'AUTO' ? { type: 'auto' } : undefined;
    case 'VALIDATED':
      dropped.push(`${path}.mode VALIDATED (sent as auto)`);
      return { type: 'auto' };
    case 'NONE':
      return { type: 'none' };
    case 'ANY':
      if (allowed.length === 1) return { type: 'tool', name: allowed[0]! };
      if (allowed.length > 1) dropped.push(`${path}.allowedFunctionNames (several names: sent as required, any tool)`);
      return { type: 'required' };
    default:
      throw invalid(`${path}.mode`, 'one of AUTO, ANY, NONE, VALIDATED', mode);
  }
}

type MutableConfig = { -readonly [K in keyof GenerationConfig]: GenerationConfig[K] };

function readConfig(value: unknown, dropped: string[]): GenerationConfig {
  if (value === undefined || value === null) return {};
  const config: MutableConfig = {};
  for (const [key, v] of Object.entries(record(value, 'generationConfig'))) {
    if (v === undefined || v === null) continue;
    const at = `generationConfig.${key}`;
    switch (key) {
      case 'maxOutputTokens':
        config.maxTokens = positiveInteger(v, at);
        break;
      case 'temperature':
        config.temperature = nonNegative(v, at);
        break;
      case 'topP':
        config.topP = fraction(v, at);
        break;
      case 'stopSequences': {
        const stop = strings(v, at);
        if (stop.length > 0) config.stop = stop;
        break;
      }
      case 'thinkingConfig': {
        const reasoning = readThinking(v, dropped);
        if (reasoning) config.reasoning = reasoning;
        break;
      }
      case 'candidateCount':
        if (v !== 1) dropped.push(`${at} (one candidate is generated)`);
        break;
      case 'responseMimeType':
        if (v !== 'text/plain') dropped.push(at);
        break;
      default:
        dropped.push(at);
    }
  }
  return config;
}

const THINKING_LEVELS = ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'] as const;

/**
 * thinkingBudget > 0 -> budgetTokens; -1 (dynamic) -> nothing; 0 (thinking off) -> effort
 * "minimal", the nearest canonical setting (listed). thinkingLevel -> effort. includeThoughts is
 * not carried: the bridge always passes reasoning on.
 */
function readThinking(value: unknown, dropped: string[]): GenerationConfig['reasoning'] {
  const path = 'generationConfig.thinkingConfig';
  let effort: 'minimal' | 'low' | 'medium' | 'high' | undefined;
  let budgetTokens: number | undefined;
  for (const [key, v] of Object.entries(record(value, path))) {
    if (v === undefined || v === null) continue;
    const at = `${path}.${key}`;
    if (key === 'thinkingBudget') {
      const budget = thinkingBudget(v, at);
      if (budget === 0) {
        effort = 'minimal';
        dropped.push(`${at} 0 (thinking off): sent as effort "minimal"`);
      } else if (budget > 0) budgetTokens = budget;
    } else if (key === 'thinkingLevel') {
      const level = typeof v === 'string' ? v.toUpperCase() : undefined;
      if (level === 'THINKING_LEVEL_UNSPECIFIED') continue;
      if (!THINKING_LEVELS.some((l) => l === level)) throw invalid(at, `one of ${THINKING_LEVELS.join(', ')}`, v);
      effort = level!.toLowerCase() as typeof effort;
    } else if (key === 'includeThoughts') boolean(v, at);
    else dropped.push(at);
  }
  if (effort === undefined && budgetTokens === undefined) return undefined;
  return { ...(effort !== undefined && { effort }), ...(budgetTokens !== undefined && { budgetTokens }) };
}

// ---------------------------------------------------------------------------------------------
// Render what the agent receives

/**
 * Canonical usage counts all input and all output; Gemini splits output into candidates and
 * thoughts. Gemini has no cache-write count: cache writes stay inside promptTokenCount and
 * read back as plain input.
 */
function renderUsage(usage: Usage): GeminiUsage {
  const thoughts = Math.min(usage.reasoningTokens, usage.outputTokens);
  return {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: usage.outputTokens - thoughts,
    totalTokenCount: usage.inputTokens + usage.outputTokens,
    ...(usage.cacheReadTokens > 0 && { cachedContentTokenCount: usage.cacheReadTokens }),
    ...(thoughts > 0 && { thoughtsTokenCount: thoughts }),
  };
}

/** Gemini says STOP for a stop sequence too, and has no tool-use reason (a functionCall part says it). */
function finishReasonOf(stopReason: StopReason): string {
  switch (stopReason) {
    case 'max_tokens':
      return 'MAX_TOKENS';
    case 'refusal':
      return 'SAFETY';
    case 'error':
      return 'OTHER';
    default:
      return 'STOP';
  }
}

function renderResponse(response: ModelResponse): GeminiResponse {
  return {
    candidates: [
      {
        content: { role: 'model', parts: renderParts(response.content, { pack: true, toolName: (p) => p.name ?? '' }) },
        finishReason: finishReasonOf(response.stopReason),
        index: 0,
      },
    ],
    usageMetadata: renderUsage(response.usage),
    modelVersion: response.model,
    responseId: response.id,
  };
}

const ERROR_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Google's error body: `{error: {code, message, status}}`, status a google.rpc.Code name. */
function renderError(status: number, message: string): { error: { code: number; message: string; status: string } } {
  return { error: { code: status, message, status: ERROR_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION') } };
}

type RenderBlock =
  | { readonly type: 'text' }
  | { readonly type: 'reasoning'; text: string; signature?: string }
  | { readonly type: 'tool_call'; readonly id: string; readonly name: string; args: string };

/**
 * Canonical events -> Gemini chunks. Text and thought deltas go out as they come; a tool call
 * goes out whole when its block ends; reasoning is also packed into the signature of the next
 * non-thought part (see gemini-parts.ts). The stop event becomes a last chunk with no content,
 * the finishReason and the usage.
 */
function createStreamRenderer(): (event: StreamEvent) => readonly SseEvent[] {
  let id = '';
  let model = '';
  const blocks = new Map<number, RenderBlock>();
  const carry = new ReasoningCarry(true);
  const chunk = (parts: GeminiPart[], last?: { finishReason: string; usageMetadata: GeminiUsage }): SseEvent => {
    const body: GeminiResponse = {
      candidates: [{ content: { role: 'model', parts }, ...(last && { finishReason: last.finishReason }), index: 0 }],
      ...(last && { usageMetadata: last.usageMetadata }),
      modelVersion: model,
      responseId: id,
    };
    return { data: JSON.stringify(body) };
  };

  return (event) => {
    switch (event.type) {
      case 'start':
        ({ id, model } = event);
        return [];
      case 'block_start': {
        const b = event.block;
        blocks.set(event.index, b.type === 'tool_call' ? { type: 'tool_call', id: b.id, name: b.name, args: '' } : b.type === 'reasoning' ? { type: 'reasoning', text: '' } : { type: 'text' });
        return [];
      }
      case 'text_delta':
        return event.text === '' ? [] : [chunk([{ text: event.text, ...carry.take() }])];
      case 'reasoning_delta': {
        const b = blocks.get(event.index);
        if (b?.type !== 'reasoning') return [];
        b.text += event.text;
        if (event.signature !== undefined) b.signature = event.signature;
        const signature = event.signature !== undefined ? { thoughtSignature: event.signature } : {};
        if (event.text !== '') return [chunk([{ text: event.text, thought: true, ...signature }])];
        // A signature after shown text goes out now; before any text it may be a bare
        // signature, which goes on the next non-thought part when the block ends.
        return event.signature !== undefined && b.text !== '' ? [chunk([{ text: '', thought: true, ...signature }])] : [];
      }
      case 'tool_arguments_delta': {
        const b = blocks.get(event.index);
        if (b?.type === 'tool_call') b.args += event.json;
        return [];
      }
      case 'block_end': {
        const b = blocks.get(event.index);
        blocks.delete(event.index);
        if (b?.type === 'reasoning') carry.add({ type: 'reasoning', text: b.text, ...(b.signature !== undefined && { signature: b.signature }) });
        if (b?.type !== 'tool_call') return [];
        return [chunk([{ functionCall: { id: b.id, name: b.name, args: argumentsToArgs(b.args) }, ...carry.take() }])];
      }
      case 'stop':
        return [chunk(carry.flush(), { finishReason: finishReasonOf(event.stopReason), usageMetadata: renderUsage(event.usage) })];
    }
  };
}

export const geminiInbound: InboundWire = {
  api: 'gemini',
  parseRequest,
  renderResponse,
  createStreamRenderer,
  renderError,
};
