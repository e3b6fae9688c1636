/**
 * TypeScript mirror of docs/protocol.md: method names and wire shapes (camelCase, as sent).
 * Pure: no import of `vscode`, so unit tests can use it.
 */

export const Methods = {
  inlineCompletion: 'inkstream/inlineCompletion',
  standardInlineCompletion: 'textDocument/inlineCompletion',
  explain: 'inkstream/explain',
  status: 'inkstream/status',
} as const;

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

export interface WireInlineCompletionItem {
  insertText: string | { kind?: string; value: string };
  range?: WireRange;
  filterText?: string;
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
