// Kept for ../providers/openai.ts until it imports from ../wire.ts; then delete this file.
export { openaiResponsesOutbound } from './openai-responses-outbound.ts';
