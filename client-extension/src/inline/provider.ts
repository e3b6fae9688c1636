/**
 * Progressive ghost text.
 *
 * One `inkstream/inlineCompletion` request per stream, with a partialResultToken: each `$/progress`
 * snapshot goes into the StreamCache. VS Code asks the provider again only on its own schedule, so
 * while the snapshot grows we re-show it (`editor.action.inlineSuggest.hide` + `…trigger`, when
 * growth.ts says so) and answer the new call from the cache, without asking the server again.
 * Typing that matches the suggestion keeps the running stream (type-through); anything else cancels
 * it, which sends `$/cancelRequest` so the model stops.
 */
import * as vscode from 'vscode';
import { ProgressType, WorkDoneProgress, type LanguageClient, type WorkDoneProgressReport } from 'vscode-languageclient/node';
import {
  acceptId,
  ErrorCodes,
  isCancellation,
  isRpcError,
  Methods,
  parseTokenReport,
  type InlineCompletionParams,
  type InlineCompletionResult,
  type WireInlineCompletionList,
} from '../protocol';
import type { ServerManager } from '../server';
import { currentSettings } from '../server';
import { isLanguageEnabled } from '../settings';
import type { StatusBar } from '../status';
import type { UsageReporter } from '../usage/reporter';
import { nextRefreshAt, parseGrowthMode, type GrowthMode } from './growth';
import { isUsable, itemText, makeAnchor, matchEntry, mergeSnapshot, StreamCache, type StreamEntry } from './streamCache';

const partialType = new ProgressType<WireInlineCompletionList>();

interface Running {
  source: vscode.CancellationTokenSource;
  subscriptions: vscode.Disposable[];
}

/** What the e2e test and the output channel get to know about a stream. */
export interface StreamEvent {
  kind: 'start' | 'snapshot' | 'shown' | 'done' | 'failed' | 'cancelled' | 'refresh' | 'fallback';
  id: number;
  at: number;
  length?: number;
  detail?: string;
}

export class InlineProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly cache = new StreamCache();
  private readonly running = new Map<number, Running>();
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTarget: StreamEntry | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshAt = Infinity;
  private growth: GrowthMode = readGrowthMode();
  private useStandard = false;
  private counter = 0;
  readonly events: StreamEvent[] = [];
  /** A next edit that is an insertion at the cursor shows as ghost text (src/nextEdit/controller.ts). */
  nextEditGhost: ((document: vscode.TextDocument, position: vscode.Position) => vscode.InlineCompletionItem | undefined) | undefined;

  constructor(
    private readonly server: ServerManager,
    private readonly status: StatusBar,
    private readonly output: vscode.LogOutputChannel,
    private readonly usage?: UsageReporter,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('inkstream.ghostTextGrowth')) {
          this.growth = readGrowthMode();
        }
      }),
      vscode.workspace.onDidChangeTextDocument((event) => this.documentChanged(event)),
      vscode.window.onDidChangeTextEditorSelection((event) => this.reconcile(event.textEditor)),
      vscode.window.onDidChangeActiveTextEditor(() => this.cancelAll('editor changed')),
      vscode.workspace.onDidCloseTextDocument((document) => this.cancelFor(document.uri.toString(), 'document closed')),
      server.onDidChangeClient(() => {
        this.cancelAll('server changed');
        this.useStandard = false;
      }),
    );
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const client = this.server.client;
    if (!client || !isLanguageEnabled(currentSettings().enable, document.languageId)) {
      return undefined;
    }
    const nextEdit = this.nextEditGhost?.(document, position);
    if (nextEdit) {
      return [nextEdit];
    }
    if (this.useStandard || this.server.capabilities?.inlineCompletion !== true || context.selectedCompletionInfo) {
      return this.standard(client, document, position, context, token);
    }
    const uri = document.uri.toString();
    const text = document.getText();
    const cursor = document.offsetAt(position);
    let match = this.cache.lookup(uri, text, cursor);
    if (match && !match.entry.running && !isUsable(match.remainder)) {
      match = undefined; // typed through the whole finished suggestion: ask for the next one
    }
    const entry = match?.entry ?? this.startStream(client, document, position, context, text, cursor);
    const typed = match?.typed ?? '';

    // Wait until there is something worth showing after what was typed (or the stream ends).
    let onCancel: vscode.Disposable | undefined;
    await entry.waitFor(
      (e) => e.text.startsWith(typed) && isUsable(e.text.slice(typed.length)),
      (abort) => {
        onCancel = token.onCancellationRequested(abort);
      },
    );
    onCancel?.dispose();
    if (token.isCancellationRequested) {
      // VS Code gave up on this call (usually typing). Keep the stream only if the typing follows it.
      this.reconcile(vscode.window.activeTextEditor);
      return undefined;
    }
    if (entry.state === 'failed' && isRpcError(entry.error) && entry.error.code === ErrorCodes.MethodNotFound) {
      this.useStandard = true;
      this.note({ kind: 'fallback', id: entry.id, at: Date.now(), detail: 'inkstream/inlineCompletion not found' });
      return this.standard(client, document, position, context, token);
    }
    const now = matchEntry(entry, document.getText(), document.offsetAt(position));
    if (!now || now.ahead || !isUsable(now.remainder)) {
      return undefined;
    }
    entry.shown = now.typed + now.remainder;
    entry.shownAt = Date.now();
    entry.shownByTyping = context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic;
    this.refreshTarget = entry;
    this.note({ kind: 'shown', id: entry.id, at: entry.shownAt, length: entry.shown.length }, entry);
    this.maybeRefresh(entry);
    const whole = !entry.running && entry.shown.length === entry.text.length;
    const command = this.usage?.shown(document, position, now.remainder, this.usage.idOf(entry), now.typed.length, whole);
    const item = new vscode.InlineCompletionItem(now.remainder, new vscode.Range(position, position), command);
    return [item];
  }

  /** Whether a completion stream is running for the document. */
  isStreaming(uri: string): boolean {
    return this.cache.get(uri)?.running === true;
  }

  /** Escape: hide the suggestion and stop the model. */
  async dismiss(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor) {
      this.cancelFor(editor.document.uri.toString(), 'dismissed');
    }
    await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
  }

  private startStream(
    client: LanguageClient,
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    text: string,
    cursor: number,
  ): StreamEntry {
    const { entry, replaced } = this.cache.begin(makeAnchor(document.uri.toString(), text, cursor), Date.now());
    if (replaced) {
      this.cancelEntry(replaced, 'replaced by a new request');
    }
    const source = new vscode.CancellationTokenSource();
    const tag = `inkstream-inline-${process.pid}-${++this.counter}`;
    const partialResultToken = `${tag}-partial`;
    const workDoneToken = `${tag}-work`;
    const stream = this.status.beginStream();
    let note: string | undefined;
    const subscriptions: vscode.Disposable[] = [
      source,
      client.onProgress(partialType, partialResultToken, (value) => {
        this.usage?.noteResult(entry, value);
        if (entry.update(mergeSnapshot(entry.text, value))) {
          this.note({ kind: 'snapshot', id: entry.id, at: Date.now(), length: entry.text.length }, entry);
          this.maybeRefresh(entry);
        }
      }),
      client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
        const report = parseTokenReport((value as WorkDoneProgressReport).message);
        if (report) {
          stream.report(report.tokens, report.rate);
        } else if (value.kind !== 'begin' && value.message) {
          note = value.message; // what it waits for, or why it is empty (the server says)
        }
      }),
    ];
    this.running.set(entry.id, { source, subscriptions });
    const params: InlineCompletionParams = {
      textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri) },
      position: client.code2ProtocolConverter.asPosition(position),
      context: { triggerKind: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke ? 1 : 2 },
      partialResultToken,
      workDoneToken,
    };
    this.note({ kind: 'start', id: entry.id, at: Date.now() });
    client.sendRequest<InlineCompletionResult>(Methods.inlineCompletion, params, source.token).then(
      (result) => {
        this.usage?.noteResult(entry, result);
        entry.finish(mergeSnapshot(entry.text, result));
        this.note({ kind: 'done', id: entry.id, at: Date.now(), length: entry.text.length });
        stream.end(undefined, entry.text ? undefined : note);
        this.maybeRefresh(entry);
        this.release(entry);
      },
      (error: unknown) => {
        const cancelled = source.token.isCancellationRequested || isCancellation(error);
        entry.fail(error, cancelled);
        this.cache.delete(entry);
        const message = isRpcError(error) ? error.message : String(error);
        this.note({ kind: cancelled ? 'cancelled' : 'failed', id: entry.id, at: Date.now(), detail: message });
        const methodMissing = isRpcError(error) && error.code === ErrorCodes.MethodNotFound;
        stream.end(cancelled || methodMissing ? undefined : message);
        this.release(entry);
      },
    );
    return entry;
  }

  /** The standard method (no partial results): for servers without the custom one, and for suggest-widget previews. */
  private async standard(
    client: LanguageClient,
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const converter = client.code2ProtocolConverter;
    const selected = context.selectedCompletionInfo;
    const params: InlineCompletionParams = {
      textDocument: { uri: converter.asUri(document.uri) },
      position: converter.asPosition(position),
      context: {
        triggerKind: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke ? 1 : 2,
        ...(selected ? { selectedCompletionInfo: { range: converter.asRange(selected.range), text: selected.text } } : {}),
      },
    };
    const method = this.useStandard || this.server.capabilities?.inlineCompletion !== true ? Methods.standardInlineCompletion : Methods.inlineCompletion;
    const stream = this.status.beginStream();
    try {
      const result = await client.sendRequest<InlineCompletionResult>(method, params, token);
      stream.end();
      const items = Array.isArray(result) ? result : (result?.items ?? []);
      return items.flatMap((item) => {
        const insert = itemText(item);
        if (insert === undefined) {
          return [];
        }
        const range = item.range ? client.protocol2CodeConverter.asRange(item.range) : new vscode.Range(position, position);
        const command = this.usage?.shown(document, range.start, insert, acceptId(item), 0, true);
        return [new vscode.InlineCompletionItem(insert, range, command)];
      });
    } catch (error) {
      const cancelled = token.isCancellationRequested || isCancellation(error);
      stream.end(cancelled ? undefined : isRpcError(error) ? error.message : String(error));
      return undefined;
    }
  }

  /** Schedules a re-show of the shown suggestion for when growth.ts says it is worth one. */
  private maybeRefresh(entry: StreamEntry): void {
    if (this.refreshTarget !== entry) {
      return;
    }
    const at = nextRefreshAt(this.growth, entry);
    if (at === undefined || at >= this.refreshAt) {
      return;
    }
    this.cancelRefresh();
    this.refreshAt = at;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refreshAt = Infinity;
      void this.refresh(entry);
    }, Math.max(0, at - Date.now()));
  }

  private cancelRefresh(): void {
    if (this.refreshTimer !== undefined) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
    }
    this.refreshAt = Infinity;
  }

  /** Re-show the longer suggestion: hide + trigger makes VS Code ask us again, and the cache answers. */
  private async refresh(entry: StreamEntry): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (this.refreshTarget !== entry || !editor || editor.document.uri.toString() !== entry.anchor.uri || !editor.selection.isEmpty) {
      return;
    }
    const at = nextRefreshAt(this.growth, entry);
    if (at === undefined) {
      return;
    }
    if (at > Date.now() + 1) {
      this.maybeRefresh(entry); // the answer to a re-ask after typing moved it
      return;
    }
    const match = matchEntry(entry, editor.document.getText(), editor.document.offsetAt(editor.selection.active));
    if (!match || match.ahead) {
      return;
    }
    const askedAt = (entry.shownAt = Date.now()); // until VS Code's new call says otherwise
    this.note({ kind: 'refresh', id: entry.id, at: askedAt, length: entry.text.length });
    if (entry.shownByTyping) {
      // VS Code's last call was automatic (typing): an explicit trigger is not "satisfied" by it,
      // so VS Code asks again while it keeps the current ghost text on screen, without a blink.
      // The command resolves once VS Code has asked and shown the answer.
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      if (this.refreshTarget !== entry || entry.shownAt !== askedAt || !entry.shownByTyping) {
        return; // VS Code asked (or the stream moved on)
      }
    }
    // One message: VS Code hides and re-asks in the same task, so the blank lasts one round trip
    // to the extension host (two awaited executeCommand calls made it two round trips).
    await vscode.commands.executeCommand('runCommands', { commands: ['editor.action.inlineSuggest.hide', 'editor.action.inlineSuggest.trigger'] });
  }

  /** Cancel the document's stream when the cursor has left its path (type-through otherwise keeps it). */
  private reconcile(editor: vscode.TextEditor | undefined): void {
    if (!editor) {
      return;
    }
    const entry = this.cache.get(editor.document.uri.toString());
    if (!entry) {
      return;
    }
    const selection = editor.selection;
    const onPath =
      selection.isEmpty && matchEntry(entry, editor.document.getText(), editor.document.offsetAt(selection.active)) !== undefined;
    if (!onPath) {
      this.cancelEntry(entry, 'the cursor left the suggestion');
    }
  }

  private documentChanged(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0) {
      return;
    }
    const entry = this.cache.get(event.document.uri.toString());
    if (!entry) {
      return;
    }
    // An edit before the anchor can never be type-through. Edits after it are judged when the cursor moves.
    if (event.contentChanges.some((change) => change.rangeOffset < entry.anchor.offset)) {
      this.cancelEntry(entry, 'edited before the suggestion');
    }
  }

  private cancelFor(uri: string, why: string): void {
    const entry = this.cache.get(uri);
    if (entry) {
      this.cancelEntry(entry, why);
    }
  }

  private cancelAll(why: string): void {
    for (const entry of this.cache.clear()) {
      this.cancelEntry(entry, why);
    }
  }

  private cancelEntry(entry: StreamEntry, why: string): void {
    this.cache.delete(entry);
    if (this.refreshTarget === entry) {
      this.refreshTarget = undefined;
      this.cancelRefresh();
    }
    const running = this.running.get(entry.id);
    if (running && entry.running) {
      this.output.appendLine(`[inline] cancel stream ${entry.id}: ${why}`);
      running.source.cancel(); // vscode-languageclient sends $/cancelRequest
    }
  }

  private release(entry: StreamEntry): void {
    const running = this.running.get(entry.id);
    this.running.delete(entry.id);
    for (const subscription of running?.subscriptions ?? []) {
      subscription.dispose();
    }
  }

  private note(event: StreamEvent, entry?: StreamEntry): void {
    if (entry && (event.kind === 'snapshot' ? entry.updates === 1 : event.kind === 'shown' && !entry.shownOnce)) {
      // The first text of a stream and when it was first handed to VS Code (bench/vscode_first.py reads these).
      entry.shownOnce ||= event.kind === 'shown';
      this.output.appendLine(`[inline] stream ${event.id} first ${event.kind === 'shown' ? 'shown' : 'text'} ${event.at - entry.startedAt} ms after the request`);
    } else if (event.kind !== 'snapshot' && event.kind !== 'shown' && event.kind !== 'refresh') {
      const extra = [event.length !== undefined ? `${event.length} chars` : '', event.detail ?? ''].filter(Boolean).join(', ');
      this.output.appendLine(`[inline] stream ${event.id} ${event.kind}${extra ? ` (${extra})` : ''}`);
    }
    this.events.push(event);
    if (this.events.length > 500) {
      this.events.splice(0, this.events.length - 500);
    }
  }

  dispose(): void {
    this.cancelRefresh();
    this.cancelAll('disposed');
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}

function readGrowthMode(): GrowthMode {
  return parseGrowthMode(vscode.workspace.getConfiguration('inkstream').get('ghostTextGrowth'));
}
