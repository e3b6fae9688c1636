/**
 * The extension's own cache of running completion streams: snapshot merging and type-through matching.
 *
 * Pure (no `vscode` import): the provider feeds it document text and offsets, and it answers
 * "what should the ghost text be now". One live stream per document, because the server supersedes
 * older requests for the same document anyway.
 */
import type { InlineCompletionResult, WireInlineCompletionItem } from '../protocol';

/** How much text before the anchor is remembered to notice edits above the cursor. */
const BEFORE_CONTEXT = 2000;

/** Text of the first item of a snapshot or final result, or undefined when there is none. */
export function snapshotItem(result: InlineCompletionResult | undefined): WireInlineCompletionItem | undefined {
  if (!result) {
    return undefined;
  }
  const items = Array.isArray(result) ? result : result.items;
  return items?.find((item) => itemText(item) !== undefined);
}

export function itemText(item: WireInlineCompletionItem): string | undefined {
  const value = item.insertText;
  if (typeof value === 'string') {
    return value;
  }
  if (value && typeof value === 'object' && typeof value.value === 'string') {
    return value.value;
  }
  return undefined;
}

/**
 * Snapshot → text relative to the anchor (the cursor when the request was made).
 *
 * Each `$/progress` value replaces the previous one (protocol.md: snapshots, not deltas), so the
 * merge is a replacement. `replaced` is the document text the item's range covers before the
 * anchor (empty for the usual empty range at the cursor); an item whose insertText repeats it is
 * reduced to the part after the anchor, and one that does not is unusable.
 */
export function mergeSnapshot(previous: string, incoming: InlineCompletionResult | undefined, replaced = ''): string {
  const item = snapshotItem(incoming);
  if (!item) {
    return previous;
  }
  const text = itemText(item) ?? '';
  if (replaced.length === 0) {
    return text;
  }
  return text.startsWith(replaced) ? text.slice(replaced.length) : previous;
}

/** Ghost text is worth showing once it has something besides whitespace. */
export function isUsable(text: string): boolean {
  return /\S/.test(text);
}

export type StreamState = 'running' | 'done' | 'failed' | 'cancelled';

export interface Anchor {
  uri: string;
  /** Offset of the cursor when the request was made. */
  offset: number;
  /** Up to BEFORE_CONTEXT characters before the anchor. */
  before: string;
  /** The rest of the anchor's line after the cursor. */
  lineAfter: string;
}

export interface Match {
  entry: StreamEntry;
  /** What the user typed since the anchor; a prefix of the streamed text. */
  typed: string;
  /** The ghost text to show now: the streamed text after `typed`. */
  remainder: string;
  /** The user typed past what has streamed so far (only while running): nothing to show yet. */
  ahead: boolean;
}

type Listener = (entry: StreamEntry) => void;

let nextId = 1;

export class StreamEntry {
  readonly id = nextId++;
  text = '';
  state: StreamState = 'running';
  error: unknown;
  /** Number of snapshots that changed the text. */
  updates = 0;
  /** The suggestion last handed to VS Code (including what was typed) and when: growth past it asks for a re-show. */
  shown = '';
  shownAt = 0;
  /** VS Code's last call was automatic (typing), so an explicit trigger re-asks without a hide. */
  shownByTyping = false;
  /** The provider has handed some of it to VS Code. */
  shownOnce = false;
  private listeners = new Set<Listener>();

  constructor(readonly anchor: Anchor, readonly startedAt: number) {}

  get running(): boolean {
    return this.state === 'running';
  }

  /** Apply a snapshot; true when the text changed. */
  update(text: string): boolean {
    if (this.state !== 'running' || text === this.text) {
      return false;
    }
    this.text = text;
    this.updates += 1;
    this.emit();
    return true;
  }

  /** The final answer. It wins over the last snapshot (the server's final text is authoritative). */
  finish(text: string | undefined): void {
    if (this.state !== 'running') {
      return;
    }
    if (text !== undefined) {
      this.text = text;
    }
    this.state = 'done';
    this.emit();
  }

  fail(error: unknown, cancelled: boolean): void {
    if (this.state !== 'running') {
      return;
    }
    this.error = error;
    this.state = cancelled ? 'cancelled' : 'failed';
    this.emit();
  }

  onUpdate(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Resolves when `predicate` holds, the stream ends, or `abort` says so (polled on every update). */
  waitFor(predicate: (entry: StreamEntry) => boolean, onAbort?: (abort: () => void) => void): Promise<StreamEntry> {
    return new Promise((resolve) => {
      if (predicate(this) || !this.running) {
        resolve(this);
        return;
      }
      const sub = this.onUpdate((entry) => {
        if (predicate(entry) || !entry.running) {
          sub.dispose();
          resolve(entry);
        }
      });
      onAbort?.(() => {
        sub.dispose();
        resolve(this);
      });
    });
  }

  private emit(): void {
    for (const listener of [...this.listeners]) {
      listener(this);
    }
  }
}

/** Builds the anchor from the document text and the cursor offset. */
export function makeAnchor(uri: string, docText: string, offset: number): Anchor {
  return {
    uri,
    offset,
    before: docText.slice(Math.max(0, offset - BEFORE_CONTEXT), offset),
    lineAfter: restOfLine(docText, offset),
  };
}

function restOfLine(docText: string, offset: number): string {
  const end = docText.indexOf('\n', offset);
  const line = docText.slice(offset, end === -1 ? docText.length : end);
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Type-through: is the cursor still on the stream's path? True when the text before the anchor
 * and the rest of the line are unchanged and what was typed since the anchor is a prefix of the
 * streamed text (or, while it runs, the streamed text is a prefix of what was typed).
 */
export function matchEntry(entry: StreamEntry, docText: string, cursor: number): Match | undefined {
  const { offset, before, lineAfter } = entry.anchor;
  if (cursor < offset || docText.slice(offset - before.length, offset) !== before) {
    return undefined;
  }
  if (restOfLine(docText, cursor) !== lineAfter) {
    return undefined;
  }
  const typed = docText.slice(offset, cursor);
  if (entry.text.startsWith(typed)) {
    return { entry, typed, remainder: entry.text.slice(typed.length), ahead: false };
  }
  if (entry.running && typed.startsWith(entry.text)) {
    return { entry, typed, remainder: '', ahead: true };
  }
  return undefined;
}

export class StreamCache {
  private readonly entries = new Map<string, StreamEntry>();

  /** Start tracking a new stream; returns it and the entry it replaces (to be cancelled by the caller). */
  begin(anchor: Anchor, now: number): { entry: StreamEntry; replaced?: StreamEntry } {
    const replaced = this.entries.get(anchor.uri);
    const entry = new StreamEntry(anchor, now);
    this.entries.set(anchor.uri, entry);
    return { entry, replaced };
  }

  get(uri: string): StreamEntry | undefined {
    return this.entries.get(uri);
  }

  /** The stream for this document if the cursor is still on its path, with the ghost text to show. */
  lookup(uri: string, docText: string, cursor: number): Match | undefined {
    const entry = this.entries.get(uri);
    if (!entry || entry.state === 'failed' || entry.state === 'cancelled') {
      return undefined;
    }
    return matchEntry(entry, docText, cursor);
  }

  delete(entry: StreamEntry): void {
    if (this.entries.get(entry.anchor.uri) === entry) {
      this.entries.delete(entry.anchor.uri);
    }
  }

  all(): StreamEntry[] {
    return [...this.entries.values()];
  }

  clear(): StreamEntry[] {
    const all = this.all();
    this.entries.clear();
    return all;
  }
}
