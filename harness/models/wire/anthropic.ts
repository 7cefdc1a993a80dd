// Kept for ../providers/anthropic.ts until it imports from ../wire.ts; then delete this file.
export { anthropicOutbound } from './anthropic-outbound.ts';
