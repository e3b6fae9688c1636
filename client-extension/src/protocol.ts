/**
 * TypeScript mirror of docs/protocol.md: method names and wire shapes (camelCase, as sent).
 * Pure: no import of `vscode`, so unit tests can use it.
 */

export const Methods = {
  inlineCompletion: 'inkstream/inlineCompletion',
  standardInlineCompletion: 'textDocument/inlineCompletion',
  explain: 'inkstream/explain',
  status: 'inkstream/status',
  usage: 'inkstream/usage',
  didShowCompletion: 'textDocument/didShowCompletion',
  didPartiallyAcceptCompletion: 'textDocument/didPartiallyAcceptCompletion',
} as const;

/** The command on every completion item the server returns; editors run it on accept. */
export const DID_ACCEPT_COMMAND = 'inkstream.didAccept';

/** JSON-RPC / LSP error codes the client reacts to. */
export const ErrorCodes = {
  MethodNotFound: -32601,
  InvalidParams: -32602,
  RequestCancelled: -32800,
  ServerCancelled: -32802,
  RequestFailed: -32803,
} as const;

export interface WirePosition {
  line: number;
  character: number;
}

export interface WireRange {
  start: WirePosition;
  end: WirePosition;
}

export interface InlineCompletionParams {
  textDocument: { uri: string };
  position: WirePosition;
  context: {
    triggerKind: number;
    selectedCompletionInfo?: { range: WireRange; text: string };
  };
  workDoneToken?: string | number;
  partialResultToken?: string | number;
}

export interface WireCommand {
  title: string;
  command: string;
  arguments?: unknown[];
}

export interface WireInlineCompletionItem {
  insertText: string | { kind?: string; value: string };
  range?: WireRange;
  filterText?: string;
  command?: WireCommand;
}

/** The item's id for acceptance reports: `command.arguments[0]` of an `inkstream.didAccept` command. */
export function acceptId(item: WireInlineCompletionItem | undefined): string | undefined {
  const command = item?.command;
  const first = command?.arguments?.[0];
  return command?.command === DID_ACCEPT_COMMAND && typeof first === 'string' && first ? first : undefined;
}

export interface WireInlineCompletionList {
  items: WireInlineCompletionItem[];
}

/** A server may answer an array instead of a list (LSP allows both). */
export type InlineCompletionResult = WireInlineCompletionList | WireInlineCompletionItem[] | null;

export interface ExplainParams {
  textDocument: { uri: string };
  range: WireRange;
  workDoneToken?: string | number;
  partialResultToken?: string | number;
}

export interface ExplainPartial {
  delta: string;
}

export interface ExplainResult {
  text: string;
}

export interface StatusResult {
  provider: 'openai' | 'offline';
  baseUrl: string | null;
  model: string;
  apiStyle: 'fim' | 'chat' | 'auto';
  lastError: string | null;
  /** Why the last completion was empty ("no completion: …"); null when it was not. */
  emptyReason?: string | null;
  /** Today's usage (servers before usage was added leave it out). */
  usage?: TodayUsage;
  budget?: BudgetStatus | null;
}

export interface TodayUsage {
  day: string;
  requests: number;
  tokens: number;
  promptTokens: number;
  generatedTokens: number;
  neverShownTokens: number;
  cost: number | null;
  shown: number;
  accepted: number;
  acceptRate: number | null;
}

export interface BudgetStatus {
  dailyCost: number | null;
  dailyTokens: number | null;
  costLeft: number | null;
  tokensLeft: number | null;
  reached: boolean;
}

/** One group's figures in `inkstream/usage` (docs/protocol.md). */
export interface UsageFigures {
  requests: number;
  promptTokens: number;
  generatedTokens: number;
  shownTokens: number;
  neverShownTokens: number;
  stoppedEarly: number;
  reportedRequests: number;
  countedRequests: number;
  cost: number | null;
  unpricedRequests: number;
  shown: number;
  accepted: number;
  acceptRate: number | null;
  charsAccepted: number;
  keptRate30s: number | null;
  keptRate2m: number | null;
  medianTimeToFirstGhostMs: number | null;
}

export interface UsageReport {
  from: string;
  to: string;
  recording: boolean;
  totals: UsageFigures;
  days: (UsageFigures & { day: string })[];
  byLanguage: (UsageFigures & { language: string })[];
  byModel: (UsageFigures & { model: string })[];
  byEndpoint: (UsageFigures & { endpoint: string })[];
}

/** One line for the status bar tooltip: today's tokens, cost and accept rate. */
export function usageLine(usage: TodayUsage | undefined, budget?: BudgetStatus | null): string | undefined {
  if (!usage) {
    return undefined;
  }
  const parts = [`Today: ${usage.tokens.toLocaleString('en-US')} tokens`];
  parts.push(usage.cost === null ? 'cost unknown (no price set)' : `cost ${formatCost(usage.cost)}`);
  parts.push(
    usage.acceptRate === null ? 'no suggestions shown' : `${usage.accepted}/${usage.shown} accepted (${Math.round(usage.acceptRate * 100)}%)`,
  );
  if (budget?.reached) {
    parts.push('daily budget reached');
  }
  return parts.join(' · ');
}

export function formatCost(cost: number): string {
  return cost >= 1 ? cost.toFixed(2) : cost.toFixed(4);
}

/** `experimental.inkstream` in the server's capabilities. */
export interface InkstreamCapabilities {
  inlineCompletion?: boolean;
  explain?: boolean;
  partialResults?: boolean;
}

export function inkstreamCapabilities(experimental: unknown): InkstreamCapabilities | undefined {
  if (typeof experimental !== 'object' || experimental === null) {
    return undefined;
  }
  const value = (experimental as Record<string, unknown>).inkstream;
  return typeof value === 'object' && value !== null ? value : undefined;
}

/** The error shape vscode-jsonrpc rejects with (ResponseError has `code`, `message`, `data`). */
export interface RpcErrorLike {
  code: number;
  message: string;
  data?: { kind?: string; hint?: string; status?: number };
}

export function isRpcError(value: unknown): value is RpcErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'number' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** True for the answers that mean "you (or a newer request) stopped this", not a failure. */
export function isCancellation(error: unknown): boolean {
  if (isRpcError(error)) {
    return error.code === ErrorCodes.RequestCancelled || error.code === ErrorCodes.ServerCancelled;
  }
  return error instanceof Error && (error.name === 'Canceled' || error.message === 'Canceled');
}

/** "<n> tokens, <r> tok/s" from work-done reports → numbers. */
export function parseTokenReport(message: string | undefined): { tokens: number; rate: number } | undefined {
  if (!message) {
    return undefined;
  }
  const match = /(\d+)\s*tokens?,\s*([\d.]+)\s*tok\/s/.exec(message);
  if (!match) {
    return undefined;
  }
  return { tokens: Number(match[1]), rate: Number(match[2]) };
}
