/**
 * Next-edit bookkeeping, pure (no `vscode`): which streamed edits are valid for the document, the
 * set shown now (the server's `$/progress` values are deltas, so edits only ever get appended),
 * where the others move when one is applied, and how each one is drawn.
 */
import { DID_ACCEPT_COMMAND, type WireCommand, type WirePosition, type WireRange } from '../protocol';

export interface NextEdit {
  /** The server's id (`command.arguments[0]`), used in the shown/accepted/dismissed reports. */
  id: string;
  range: WireRange;
  text: string;
  command?: WireCommand;
}

export function comparePositions(a: WirePosition, b: WirePosition): number {
  return a.line - b.line || a.character - b.character;
}

function isPosition(value: unknown): value is WirePosition {
  const p = value as WirePosition | undefined;
  return (
    typeof p === 'object' && p !== null && Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.character >= 0
  );
}

function isRange(value: unknown): value is WireRange {
  const r = value as WireRange | undefined;
  return typeof r === 'object' && r !== null && isPosition(r.start) && isPosition(r.end) && comparePositions(r.start, r.end) <= 0;
}

/**
 * The edits of one result or `$/progress` value that apply to `uri` at `version`; anything
 * malformed, for another document, or computed for another version is dropped.
 */
export function parseEdits(value: unknown, uri: string, version: number): NextEdit[] {
  const edits = (value as { edits?: unknown } | null | undefined)?.edits;
  if (!Array.isArray(edits)) {
    return [];
  }
  const out: NextEdit[] = [];
  for (const raw of edits as unknown[]) {
    const edit = raw as { range?: unknown; text?: unknown; textDocument?: { uri?: unknown; version?: unknown }; command?: WireCommand };
    if (typeof edit !== 'object' || edit === null || !isRange(edit.range) || typeof edit.text !== 'string') {
      continue;
    }
    if (edit.textDocument?.version !== version || (edit.textDocument.uri !== undefined && edit.textDocument.uri !== uri)) {
      continue;
    }
    const command = edit.command;
    const first = command?.arguments?.[0];
    const id = typeof first === 'string' && first ? first : `${version}:${JSON.stringify(edit.range)}:${edit.text}`;
    const range = { start: { ...edit.range.start }, end: { ...edit.range.end } };
    const valid = typeof command?.command === 'string' ? { title: String(command.title ?? ''), command: command.command, arguments: command.arguments } : undefined;
    out.push({ id, range, text: edit.text, ...(valid ? { command: valid } : {}) });
  }
  return out;
}

function overlaps(a: WireRange, b: WireRange): boolean {
  // Two insertions at the same point, or an insertion inside a replaced range, clash too.
  return comparePositions(a.start, b.end) < 0 && comparePositions(b.start, a.end) < 0
    ? true
    : comparePositions(a.start, b.start) === 0 && comparePositions(a.end, b.end) === 0;
}

/** Where `position` (after the applied edit's range, or at its end) moves when `range` is replaced by `text`. */
function shift(position: WirePosition, range: WireRange, text: string): WirePosition {
  const lines = text.split('\n');
  const endLine = range.start.line + lines.length - 1;
  const endCharacter = lines.length === 1 ? range.start.character + lines[0].length : lines[lines.length - 1].length;
  if (position.line === range.end.line) {
    return { line: endLine, character: endCharacter + (position.character - range.end.character) };
  }
  return { line: position.line + endLine - range.end.line, character: position.character };
}

/** `edit` in the document after `applied` was made; undefined when the two touch the same text. */
export function rebase(edit: NextEdit, applied: { range: WireRange; text: string }): NextEdit | undefined {
  if (overlaps(edit.range, applied.range)) {
    return undefined;
  }
  if (comparePositions(edit.range.end, applied.range.start) <= 0) {
    return edit;
  }
  return { ...edit, range: { start: shift(edit.range.start, applied.range, applied.text), end: shift(edit.range.end, applied.range, applied.text) } };
}

/** The edits of one request, in the server's order (nearest after the cursor first). */
export class EditSet {
  private items: NextEdit[] = [];
  private readonly seen = new Set<string>();

  get edits(): readonly NextEdit[] {
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }

  /** The one Tab goes to. */
  get first(): NextEdit | undefined {
    return this.items[0];
  }

  /** Appends the edits not seen before that do not clash with one shown; returns those. */
  add(edits: readonly NextEdit[]): NextEdit[] {
    const added: NextEdit[] = [];
    for (const edit of edits) {
      if (this.seen.has(edit.id) || this.items.some((other) => overlaps(other.range, edit.range))) {
        continue;
      }
      this.seen.add(edit.id);
      this.items.push(edit);
      added.push(edit);
    }
    return added;
  }

  get(id: string): NextEdit | undefined {
    return this.items.find((edit) => edit.id === id);
  }

  /** `edit` was applied: it goes, the others move with the text; returns the ones dropped as clashing. */
  applied(edit: NextEdit): NextEdit[] {
    const dropped: NextEdit[] = [];
    const next: NextEdit[] = [];
    for (const other of this.items) {
      if (other.id === edit.id) {
        continue;
      }
      const moved = rebase(other, edit);
      if (moved) {
        next.push(moved);
      } else {
        dropped.push(other);
      }
    }
    this.items = next;
    return dropped;
  }

  /** Everything shown goes (dismissed); returns it. */
  clear(): NextEdit[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}

export type DrawKind = 'ghost' | 'delete' | 'inline' | 'block';

export interface Drawing {
  kind: DrawKind;
  /** The text that goes (highlighted as deleted); undefined for a pure insertion. */
  deleted?: WireRange;
  /** The changed lines as they will read, for `inline` (one) and `block` (several). */
  newLines: string[];
}

/**
 * How an edit is drawn: an insertion at the cursor as ghost text; a deletion as highlighted text; a
 * change within one line as the new line beside it; anything longer as a picture of the new lines.
 */
export function drawingOf(edit: NextEdit, lineAt: (line: number) => string, cursor?: WirePosition): Drawing {
  const { start, end } = edit.range;
  const empty = comparePositions(start, end) === 0;
  const deleted = empty ? undefined : edit.range;
  if (empty && cursor && comparePositions(start, cursor) === 0 && edit.text !== '') {
    return { kind: 'ghost', newLines: edit.text.split('\n') };
  }
  if (edit.text === '') {
    return { kind: 'delete', deleted, newLines: [] };
  }
  if (empty && start.character === 0 && edit.text.endsWith('\n')) {
    // Whole lines put in before a line: a picture of just those lines.
    return { kind: 'block', newLines: edit.text.slice(0, -1).split('\n') };
  }
  const first = lineAt(start.line);
  const last = start.line === end.line ? first : lineAt(end.line);
  const newLines = (first.slice(0, start.character) + edit.text + last.slice(end.character)).split('\n');
  if (end.character === 0 && edit.text.endsWith('\n')) {
    newLines.pop(); // the line after the edit, unchanged
  }
  return { kind: lastLineOf(edit.range) === start.line && newLines.length === 1 ? 'inline' : 'block', deleted, newLines };
}

/** The last line a range touches (a range ending at a line's start ends on the line before). */
export function lastLineOf(range: WireRange): number {
  return range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
}

/** Tab applies the edit when the cursor is on one of its lines; elsewhere it jumps there first. */
export function cursorAtEdit(edit: NextEdit, cursor: WirePosition): boolean {
  return cursor.line >= edit.range.start.line && cursor.line <= edit.range.end.line;
}

/** The report `textDocument/didShowInlineEdit` takes (Copilot's shape). */
export function shownParams(edit: NextEdit): { item: { command: WireCommand } } {
  return { item: { command: edit.command ?? { title: '', command: DID_ACCEPT_COMMAND, arguments: [edit.id] } } };
}
