// The Gemini API (`POST /v1beta/models/{model}:generateContent` and
// `:streamGenerateContent?alt=sse`), both ways: the bridge serves it to agents (Gemini CLI)
// in gemini-inbound.ts and speaks it to Gemini upstream in gemini-outbound.ts.
//
// Decisions the wire does not make for us:
// - Call ids: Gemini's `functionCall.id` / `functionResponse.id` are optional. Given ids are
//   kept (Gemini CLI uses a call's id as its own and echoes it in the response, so the ids the
//   bridge renders come back). A call without one gets `call_<n>`, n counting calls in the
//   conversation; a response without a matching id answers the earliest open call of its name.
//   Upstream responses without ids get `call_<responseId>_<n>`, unique across turns.
// - Tool arguments are an object (`args`); JSON text that is not an object becomes `{}`.
// - Tool results: `response.output` (or `response.error`, an error result) is the text, as
//   Gemini CLI writes them; any other response object travels as its JSON text.
// - Reasoning: thought parts are reasoning; a `thoughtSignature` on any other part is a
//   reasoning part with empty text and that signature, just before it. For agents, reasoning
//   is also packed into the signature of the next non-thought part, since Gemini CLI drops
//   thought parts from its history (gemini-parts.ts).
// - Usage: promptTokenCount (+ toolUsePromptTokenCount) is all input, cachedContentTokenCount
//   the cache reads; output is candidates + thoughts. Gemini has no cache-write count.
// - Stop reasons: STOP is end_turn, or tool_use when a function call came; a stop sequence
//   also reads as STOP. SAFETY, RECITATION, PROHIBITED_CONTENT and the other content filters,
//   and a blocked prompt, are refusals; MALFORMED_FUNCTION_CALL, OTHER and the rest are errors.
// - Request fields the canonical model cannot hold (safetySettings, topK, responseSchema,
//   built-in tools such as googleSearch or codeExecution, ...) are listed in `dropped`.
//
// This file holds the wire shapes both sides read and write; gemini-parts.ts converts content
// parts both ways.
import type { JsonSchema } from '../canonical.ts';
import type { Json } from './fields.ts';

// ---------------------------------------------------------------------------------------------
// Wire shapes (the subset the bridge reads and writes)

export interface GeminiBlob {
  mimeType: string;
  data: string;
}

export interface GeminiFileData {
  mimeType?: string;
  fileUri: string;
}

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: GeminiBlob;
  fileData?: GeminiFileData;
  functionCall?: { id?: string; name: string; args: Json };
  functionResponse?: { id?: string; name: string; response: Json; parts?: { inlineData?: GeminiBlob; fileData?: GeminiFileData }[] };
}

export interface GeminiContent {
  role?: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parametersJsonSchema: JsonSchema;
}

/** A GenerateContentRequest. The model and the streaming choice are not in the body: Gemini puts both in the path. */
export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations: GeminiFunctionDeclaration[] }[];
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: {
    maxOutputTokens?: number;
    temperature?: number;
    topP?: number;
    stopSequences?: string[];
    thinkingConfig?: { thinkingBudget?: number; thinkingLevel?: string; includeThoughts: boolean };
  };
}

export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

export interface GeminiCandidate {
  content: GeminiContent;
  finishReason?: string;
  index: number;
}

/** A GenerateContentResponse; each stream event is one too. */
export interface GeminiResponse {
  candidates: GeminiCandidate[];
  usageMetadata?: GeminiUsage;
  modelVersion: string;
  responseId: string;
}
