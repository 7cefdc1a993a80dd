// The model bridge, assembled: the four inbound wire APIs, the providers, the price table.
import { anthropicInbound, geminiInbound, openaiChatInbound, openaiResponsesInbound, type InboundWire, type WireApi } from '../models/wire.ts';
import { createProviders, type ProvidersOptions } from '../models/providers/index.ts';
import { priceTable } from './pricing.ts';
import { startBridge, type Bridge, type BridgeOptions } from './server.ts';

export const INBOUND: Readonly<Record<WireApi, InboundWire>> = {
  anthropic: anthropicInbound,
  'openai-chat': openaiChatInbound,
  'openai-responses': openaiResponsesInbound,
  gemini: geminiInbound,
};

export interface CreateBridgeOptions extends Omit<BridgeOptions, 'inbound' | 'providers' | 'prices'>, ProvidersOptions {
  /** A YAML price table on top of the bundled one. */
  readonly pricesFile?: string;
  /** Replace the providers (tests). */
  readonly providers?: BridgeOptions['providers'];
}

export function createBridge(options: CreateBridgeOptions = {}): Promise<Bridge> {
  return startBridge({
    ...options,
    inbound: INBOUND,
    providers: options.providers ?? createProviders({ openai: options.openai, anthropic: options.anthropic }),
    prices: priceTable(options.pricesFile),
  });
}

/** Base URLs per agent API, as each SDK wants them set. */
export function baseUrls(bridgeUrl: string): { anthropic: string; openai: string; gemini: string } {
  return { anthropic: bridgeUrl, openai: `${bridgeUrl}/v1`, gemini: bridgeUrl };
}

export type { Bridge } from './server.ts';
export type { BridgeSession, RequestFilter, SessionOptions, SessionLimits, SessionTotals } from './session.ts';
export { loadFilter } from './filter.ts';
