/**
 * Next-edit suggestions in the editor, on VS Code's stable API.
 *
 * After a pause in editing, one `inkstream/nextEdit` request with a partialResultToken; each
 * `$/progress` value is a delta of final edits, drawn the moment it arrives, next to what is
 * already drawn (which is never redrawn elsewhere). An insertion at the cursor is ghost text (the
 * inline provider answers it); everything else is decorations: removed text highlighted, a one-line
 * change as the new line beside it, a multi-line change as a picture of the new lines (svg.ts), and
 * "Tab to jump" at the cursor while the edit is elsewhere. Tab jumps, Tab again applies (one undo
 * step) and runs the edit's command; Escape or typing anything else hides them, and cancelling the
 * request makes the server close the model's stream.
 */
import * as vscode from 'vscode';
import { ProgressType, type LanguageClient } from 'vscode-languageclient/node';
import { ErrorCodes, isCancellation, isRpcError, Methods, type NextEditParams, type NextEditResult } from '../protocol';
import type { ServerManager } from '../server';
import { currentSettings } from '../server';
import { isLanguageEnabled, isNextEditEnabled } from '../settings';
import { comparePositions, cursorAtEdit, drawingOf, EditSet, lastLineOf, parseEdits, shownParams, type Drawing, type NextEdit } from './edits';
import { editorLineHeight, renderLines, svgDataUri, themeColors } from './svg';

const partialType = new ProgressType<NextEditResult>();
/** The pause after the last keystroke before asking (VS Code asks for ghost text itself, at once). */
const PAUSE_MS = 350;
const CONTEXT_KEY = 'inkstream.nextEditVisible';

/** What the e2e test and the output channel get to know. */
export interface NextEditEvent {
  kind: 'request' | 'hunk' | 'done' | 'cancelled' | 'failed' | 'accepted' | 'jumped' | 'dismissed' | 'hidden';
  at: number;
  ids?: string[];
  detail?: string;
}

interface Request {
  uri: string;
  source: vscode.CancellationTokenSource;
  subscription: vscode.Disposable;
}

export class NextEditController implements vscode.Disposable {
  private set = new EditSet();
  /** The document the shown edits belong to. */
  private uri: string | undefined;
  private request: Request | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private applying = false;
  private visible = false;
  private unsupported = false;
  /** The edit last offered as ghost text. */
  private ghostShown: string | undefined;
  private counter = 0;
  private readonly shownIds = new Set<string>();
  /** One decoration type per multi-line edit, with the range it was drawn for. */
  private readonly pictures = new Map<string, { type: vscode.TextEditorDecorationType; range: string }>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly events: NextEditEvent[] = [];

  private readonly deletedType = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('inkstream.nextEditDeletedBackground'),
  });
  private readonly lineType = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor('editorGhostText.foreground'),
      backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'),
      margin: '0 0 0 3ch',
    },
  });
  private readonly hintType = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorGhostText.foreground'), margin: '0 0 0 3ch', fontStyle: 'italic' },
  });

  constructor(
    private readonly server: ServerManager,
    private readonly output: vscode.LogOutputChannel,
    /** Whether a completion request is in flight in this document (ghost text goes first). */
    private readonly completing: (uri: string) => boolean,
  ) {
    this.disposables.push(
      this.deletedType,
      this.lineType,
      this.hintType,
      vscode.workspace.onDidChangeTextDocument((event) => this.documentChanged(event)),
      vscode.window.onDidChangeTextEditorSelection((event) => {
        if (event.textEditor.document.uri.toString() === this.uri) {
          this.render(event.textEditor);
        }
      }),
      vscode.window.onDidChangeTextEditorVisibleRanges((event) => {
        if (event.textEditor.document.uri.toString() === this.uri) {
          this.render(event.textEditor);
        }
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (this.uri !== undefined && editor?.document.uri.toString() !== this.uri) {
          this.dismiss('editor changed');
        }
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (document.uri.toString() === this.uri) {
          this.dismiss('document closed');
        }
      }),
      vscode.window.onDidChangeActiveColorTheme(() => this.redrawPictures()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('editor.fontFamily') || event.affectsConfiguration('editor.fontSize') || event.affectsConfiguration('editor.lineHeight')) {
          this.redrawPictures();
        }
        if (event.affectsConfiguration('inkstream.nextEdit.enable') && !isNextEditEnabled(currentSettings())) {
          this.dismiss('turned off');
        }
      }),
      server.onDidChangeClient(() => {
        this.unsupported = false;
        this.hide('server changed');
      }),
    );
  }

  /** Asks now (the command "Suggest Next Edit"; also what the pause after typing does). */
  trigger(): void {
    this.cancelTimer();
    const editor = vscode.window.activeTextEditor;
    const client = this.server.client;
    if (!editor || !client || this.unsupported) {
      return;
    }
    const document = editor.document;
    const settings = currentSettings();
    if (!isNextEditEnabled(settings) || !isLanguageEnabled(settings.enable, document.languageId) || !['file', 'untitled'].includes(document.uri.scheme)) {
      return;
    }
    const uri = document.uri.toString();
    if (this.completing(uri)) {
      this.schedule(); // not while ghost text is being asked for at the same spot: try after it
      return;
    }
    this.hide('new request');
    this.start(client, editor);
  }

  /** The edit an inline-completion call at `position` should show as ghost text, if any. */
  ghostAt(document: vscode.TextDocument, position: vscode.Position): vscode.InlineCompletionItem | undefined {
    const edit = this.set.first;
    if (!edit || document.uri.toString() !== this.uri) {
      return undefined;
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document !== document) {
      return undefined;
    }
    const drawing = drawingOf(edit, (line) => document.lineAt(line).text, this.ghostCursor(editor));
    if (drawing.kind !== 'ghost' || !position.isEqual(editor.selection.active)) {
      return undefined;
    }
    const command = edit.command ? { title: edit.command.title, command: edit.command.command, arguments: edit.command.arguments } : undefined;
    return new vscode.InlineCompletionItem(edit.text, new vscode.Range(position, position), command);
  }

  /** Tab: jump to the edit when the cursor is elsewhere, else apply it. */
  async accept(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const edit = this.set.first;
    if (!editor || !edit || editor.document.uri.toString() !== this.uri) {
      return;
    }
    const start = new vscode.Position(edit.range.start.line, edit.range.start.character);
    const cursor = editor.selection.active;
    if (!cursorAtEdit(edit, { line: cursor.line, character: cursor.character })) {
      editor.selection = new vscode.Selection(start, start);
      editor.revealRange(toRange(edit), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      this.note({ kind: 'jumped', at: Date.now(), ids: [edit.id] });
      this.render(editor);
      return;
    }
    // Its drawing goes first: a decorated range would otherwise stretch over the text put in.
    this.render(editor, edit.id);
    this.applying = true;
    let applied = false;
    try {
      applied = await editor.edit((builder) => builder.replace(toRange(edit), edit.text), { undoStopBefore: true, undoStopAfter: true });
    } finally {
      this.applying = false;
    }
    if (!applied) {
      this.render(editor);
      return;
    }
    const end = editor.document.positionAt(editor.document.offsetAt(start) + edit.text.length);
    editor.selection = new vscode.Selection(end, end);
    this.accepted(edit, editor);
    if (edit.command) {
      vscode.commands.executeCommand(edit.command.command, ...(edit.command.arguments ?? [])).then(undefined, (error: unknown) => {
        this.output.appendLine(`[nextEdit] ${edit.command?.command} failed: ${String(error)}`);
      });
    }
  }

  /** Escape (and anything that makes the edits moot): hide them, stop the model, report them dismissed. */
  dismiss(why = 'dismissed'): void {
    if (this.set.size === 0 && !this.request) {
      return;
    }
    const ids = this.hide(why);
    if (ids.length) {
      this.notify(Methods.didDismissNextEdit, { ids });
    }
    this.note({ kind: 'dismissed', at: Date.now(), ids, detail: why });
  }

  private start(client: LanguageClient, editor: vscode.TextEditor): void {
    const document = editor.document;
    const uri = document.uri.toString();
    const wireUri = client.code2ProtocolConverter.asUri(document.uri);
    const version = document.version;
    const source = new vscode.CancellationTokenSource();
    const token = `inkstream-nextedit-${process.pid}-${++this.counter}`;
    const received = (value: unknown): void => {
      if (this.request?.source !== source || this.uri !== uri || document.version !== version) {
        return; // stale: the document changed since (that change hid these and cancelled the request)
      }
      const valid = parseEdits(value, wireUri, version).filter((edit) => edit.range.end.line < document.lineCount);
      const added = this.set.add(valid);
      if (added.length) {
        this.note({ kind: 'hunk', at: Date.now(), ids: added.map((e) => e.id) });
        this.drawNew();
      }
    };
    this.uri = uri;
    this.request = { uri, source, subscription: client.onProgress(partialType, token, received) };
    const params: NextEditParams = {
      textDocument: { uri: wireUri, version },
      position: client.code2ProtocolConverter.asPosition(editor.selection.active),
      partialResultToken: token,
    };
    this.note({ kind: 'request', at: Date.now(), detail: `version ${version}` });
    client.sendRequest<NextEditResult>(Methods.nextEdit, params, source.token).then(
      (result) => {
        received(result);
        this.finishRequest(source, 'done');
      },
      (error: unknown) => {
        const cancelled = source.token.isCancellationRequested || isCancellation(error);
        if (isRpcError(error) && error.code === ErrorCodes.MethodNotFound) {
          this.unsupported = true; // a server without next edits: stop asking until it restarts
        }
        this.finishRequest(source, cancelled ? 'cancelled' : 'failed', isRpcError(error) ? error.message : String(error));
      },
    );
  }

  private finishRequest(source: vscode.CancellationTokenSource, kind: 'done' | 'cancelled' | 'failed', detail?: string): void {
    if (this.request?.source === source) {
      this.request.subscription.dispose();
      this.request = undefined;
    }
    source.dispose();
    this.note({ kind, at: Date.now(), ...(detail ? { detail } : {}) });
  }

  private accepted(edit: NextEdit, editor: vscode.TextEditor | undefined): void {
    const dropped = this.set.applied(edit);
    this.disposePicture(edit.id);
    for (const other of dropped) {
      this.disposePicture(other.id);
    }
    if (dropped.length) {
      this.notify(Methods.didDismissNextEdit, { ids: dropped.map((e) => e.id) });
    }
    this.note({ kind: 'accepted', at: Date.now(), ids: [edit.id] });
    if (this.set.size === 0) {
      this.hide('all applied');
      this.schedule(); // the next place may only show up now
      return;
    }
    if (editor) {
      this.render(editor);
    }
  }

  /** New edits of the running request: draw them (render reports them shown). */
  private drawNew(): void {
    const editor = this.editor();
    if (!editor) {
      return;
    }
    this.render(editor);
  }

  /** The cursor as drawingOf takes it: only when VS Code shows ghost text (else an insertion at the cursor is drawn beside the line). */
  private ghostCursor(editor: vscode.TextEditor): { line: number; character: number } | undefined {
    const cursor = editor.selection.active;
    const ghostText = vscode.workspace.getConfiguration('editor', editor.document).get<boolean>('inlineSuggest.enabled', true);
    return ghostText && editor.selection.isEmpty ? { line: cursor.line, character: cursor.character } : undefined;
  }

  /**
   * Draws every shown edit in `editor` (but `without`, about to be applied). Unchanged decorations
   * stay where they are: VS Code only repaints lines whose decorations changed.
   */
  private render(editor: vscode.TextEditor, without?: string): void {
    const document = editor.document;
    const cursor = this.ghostCursor(editor);
    const deleted: vscode.Range[] = [];
    const lines: vscode.DecorationOptions[] = [];
    for (const edit of this.set.edits) {
      if (edit.id === without) {
        this.disposePicture(edit.id);
        continue;
      }
      const drawing = drawingOf(edit, (line) => document.lineAt(line).text, cursor);
      if (drawing.kind === 'ghost' && edit === this.set.first && this.ghostShown !== edit.id) {
        // VS Code asks the inline provider, which answers this edit (ghostAt).
        this.ghostShown = edit.id;
        void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      }
      if (drawing.deleted) {
        deleted.push(toRange({ range: drawing.deleted }));
      }
      if (drawing.kind === 'inline') {
        const end = document.lineAt(lastLineOf(edit.range)).range.end;
        lines.push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: `→ ${drawing.newLines[0].trim()}` } } });
      } else if (drawing.kind === 'block') {
        this.drawPicture(editor, edit, drawing);
      }
    }
    editor.setDecorations(this.deletedType, deleted);
    editor.setDecorations(this.lineType, lines);
    editor.setDecorations(this.hintType, without === undefined ? this.hint(editor) : []);
    this.setVisible(this.set.size > 0);
    for (const edit of this.set.edits) {
      if (!this.shownIds.has(edit.id)) {
        this.shownIds.add(edit.id); // drawn (or offered as ghost text) for the first time
        this.notify(Methods.didShowInlineEdit, shownParams(edit));
      }
    }
  }

  /** "Tab to jump" at the end of the cursor's line while the next edit is elsewhere or off screen. */
  private hint(editor: vscode.TextEditor): vscode.DecorationOptions[] {
    const edit = this.set.first;
    const cursor = editor.selection.active;
    if (!edit || !editor.selection.isEmpty) {
      return [];
    }
    const here = cursorAtEdit(edit, { line: cursor.line, character: cursor.character });
    const onScreen = editor.visibleRanges.some((range) => range.start.line <= edit.range.start.line && edit.range.start.line <= range.end.line);
    if (here && onScreen) {
      return [];
    }
    const arrow = comparePositions(edit.range.start, { line: cursor.line, character: cursor.character }) < 0 ? '↑' : '↓';
    const end = editor.document.lineAt(cursor.line).range.end;
    return [{ range: new vscode.Range(end, end), renderOptions: { after: { contentText: `${arrow} Tab to jump (line ${edit.range.start.line + 1})` } } }];
  }

  /** One decoration type per multi-line edit, so that drawing a later one never repaints it. */
  private drawPicture(editor: vscode.TextEditor, edit: NextEdit, drawing: Drawing): void {
    const range = JSON.stringify(edit.range);
    if (this.pictures.get(edit.id)?.range !== range) {
      this.disposePicture(edit.id); // moved by an accepted edit above it: its column may differ too
    }
    let type = this.pictures.get(edit.id)?.type;
    if (!type) {
      const font = vscode.workspace.getConfiguration('editor', editor.document);
      const fontSize = font.get<number>('fontSize', 14);
      const kinds = { [vscode.ColorThemeKind.Light]: 'light', [vscode.ColorThemeKind.Dark]: 'dark', [vscode.ColorThemeKind.HighContrast]: 'highContrast', [vscode.ColorThemeKind.HighContrastLight]: 'highContrastLight' } as const;
      const picture = renderLines(drawing.newLines, {
        fontFamily: font.get<string>('fontFamily', 'monospace'),
        fontSize,
        lineHeight: editorLineHeight(fontSize, font.get<number>('lineHeight', 0)),
        tabSize: typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 4,
        ...themeColors(kinds[vscode.window.activeColorTheme.kind]),
      });
      // Beside the region: past its longest line, out of the text's flow so no line moves.
      const document = editor.document;
      let columns = 0;
      for (let line = edit.range.start.line; line <= edit.range.end.line && line < document.lineCount; line++) {
        columns = Math.max(columns, document.lineAt(line).text.replace(/\t/g, ' '.repeat(Number(editor.options.tabSize) || 4)).length);
      }
      type = vscode.window.createTextEditorDecorationType({
        before: {
          contentIconPath: vscode.Uri.parse(svgDataUri(picture.svg)),
          width: `${picture.width}px`,
          height: `${picture.height}px`,
          textDecoration: `none; position: absolute; top: 0; left: ${columns + 4}ch; z-index: 1; pointer-events: none`,
        },
      });
      this.pictures.set(edit.id, { type, range });
    }
    const at = new vscode.Position(edit.range.start.line, 0);
    editor.setDecorations(type, [new vscode.Range(at, at)]);
  }

  private redrawPictures(): void {
    for (const id of [...this.pictures.keys()]) {
      this.disposePicture(id);
    }
    const editor = this.editor();
    if (editor) {
      this.render(editor);
    }
  }

  private disposePicture(id: string): void {
    this.pictures.get(id)?.type.dispose();
    this.pictures.delete(id);
  }

  /** Takes everything off the screen and cancels the request; returns the ids that were shown. */
  private hide(why: string): string[] {
    this.cancelTimer();
    if (this.request) {
      this.output.appendLine(`[nextEdit] cancel: ${why}`);
      this.request.source.cancel(); // vscode-languageclient sends $/cancelRequest; the server closes the model's stream
      this.request.subscription.dispose();
      this.request = undefined;
    }
    const ids = this.set.clear().map((edit) => edit.id);
    for (const id of [...this.pictures.keys()]) {
      this.disposePicture(id);
    }
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === this.uri) {
        editor.setDecorations(this.deletedType, []);
        editor.setDecorations(this.lineType, []);
        editor.setDecorations(this.hintType, []);
      }
    }
    if (ids.length) {
      this.note({ kind: 'hidden', at: Date.now(), ids, detail: why });
    }
    this.uri = undefined;
    this.ghostShown = undefined;
    this.shownIds.clear();
    this.setVisible(false);
    return ids;
  }

  private documentChanged(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0 || this.applying) {
      return;
    }
    const uri = event.document.uri.toString();
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (uri === this.uri) {
      // Ghost text accepted with Tab inserts exactly the edit: VS Code runs its command itself.
      const edit = this.set.first;
      const [change] = event.contentChanges;
      if (
        edit &&
        event.contentChanges.length === 1 &&
        change.text === edit.text &&
        change.range.start.line === edit.range.start.line &&
        change.range.start.character === edit.range.start.character &&
        change.range.end.line === edit.range.end.line &&
        change.range.end.character === edit.range.end.character
      ) {
        this.accepted(edit, this.editor());
        return;
      }
      this.dismiss('typed elsewhere');
    }
    if (uri === active) {
      this.schedule();
    }
  }

  private schedule(): void {
    this.cancelTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.trigger();
    }, PAUSE_MS);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private editor(): vscode.TextEditor | undefined {
    const editor = vscode.window.activeTextEditor;
    return editor && editor.document.uri.toString() === this.uri ? editor : undefined;
  }

  private setVisible(visible: boolean): void {
    if (visible !== this.visible) {
      this.visible = visible;
      void vscode.commands.executeCommand('setContext', CONTEXT_KEY, visible);
    }
  }

  private notify(method: string, params: unknown): void {
    this.server.client?.sendNotification(method, params).catch((error: unknown) => {
      this.output.appendLine(`[nextEdit] ${method} failed: ${String(error)}`);
    });
  }

  private note(event: NextEditEvent): void {
    const extra = [event.ids?.join(',') ?? '', event.detail ?? ''].filter(Boolean).join(' ');
    this.output.appendLine(`[nextEdit] ${event.kind}${extra ? ` (${extra})` : ''}`);
    this.events.push(event);
    if (this.events.length > 500) {
      this.events.splice(0, this.events.length - 500);
    }
  }

  dispose(): void {
    this.hide('disposed');
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}

function toRange(edit: { range: { start: { line: number; character: number }; end: { line: number; character: number } } }): vscode.Range {
  return new vscode.Range(edit.range.start.line, edit.range.start.character, edit.range.end.line, edit.range.end.character);
}
