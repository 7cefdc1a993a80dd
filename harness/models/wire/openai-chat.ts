// Kept for ../providers/openai.ts until it imports from ../wire.ts; then delete this file.
export { openaiChatOutbound } from './openai-chat-outbound.ts';
