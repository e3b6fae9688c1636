/**
 * Tells the server what became of its suggestions: shown, accepted whole, accepted in part.
 *
 * VS Code 1.100 has no stable "shown" or "partially accepted" callback (both are proposed API), so:
 * an item counts as shown when the provider returns it for display; a whole accept runs the item's
 * own command (`inkstream.didAccept`, which vscode-languageclient forwards to the server); a word or
 * line accept is seen as an edit at the ghost text's position that inserts the start of it.
 * The server measures the kept rate itself (docs/usage.md).
 */
import * as vscode from 'vscode';
import { DID_ACCEPT_COMMAND, Methods, acceptId, type WireInlineCompletionItem, type WireInlineCompletionList } from '../protocol';
import type { ServerManager } from '../server';
import { acceptedByEdit, type GhostText } from './ghostEdit';

/** What is on screen now; `offset` is VS Code's (UTF-16 code units). */
interface Ghost extends GhostText {
  uri: string;
  offset: number;
  id: string;
}

export function acceptCommand(id: string): vscode.Command {
  return { title: 'inkstream: suggestion accepted', command: DID_ACCEPT_COMMAND, arguments: [id] };
}

export class UsageReporter implements vscode.Disposable {
  private readonly ids = new WeakMap<object, string>();
  private readonly shownIds = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private ghost: Ghost | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: ServerManager,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.disposables.push(vscode.workspace.onDidChangeTextDocument((event) => this.changed(event)));
  }

  /** Remember the item id the server put in a snapshot or answer of `stream`. */
  noteResult(stream: object, value: WireInlineCompletionList | WireInlineCompletionItem[] | null | undefined): void {
    const items = Array.isArray(value) ? value : (value?.items ?? []);
    const id = acceptId(items[0]);
    if (id) {
      this.ids.set(stream, id);
    }
  }

  idOf(stream: object): string | undefined {
    return this.ids.get(stream);
  }

  /**
   * The provider is returning `text` at `position` for the server item `id`: report it shown (once
   * per item) and return the command to attach, if accepting it whole means accepting the item.
   */
  shown(
    document: vscode.TextDocument,
    position: vscode.Position,
    text: string,
    id: string | undefined,
    before: number,
    complete: boolean,
  ): vscode.Command | undefined {
    if (!id) {
      return undefined;
    }
    this.ghost = { uri: document.uri.toString(), offset: document.offsetAt(position), text, id, before, complete };
    if (!this.shownIds.has(id)) {
      this.shownIds.add(id);
      if (this.shownIds.size > 1000) {
        this.shownIds.clear();
      }
      this.notify(Methods.didShowCompletion, { item: this.wireItem(id, text) });
    }
    return complete ? acceptCommand(id) : undefined;
  }

  private changed(event: vscode.TextDocumentChangeEvent): void {
    const ghost = this.ghost;
    if (!ghost || event.document.uri.toString() !== ghost.uri || event.contentChanges.length === 0) {
      return;
    }
    this.ghost = undefined;
    const [change] = event.contentChanges;
    const atGhost = event.contentChanges.length === 1 && change.rangeLength === 0 && change.rangeOffset === ghost.offset;
    const accepted = atGhost ? acceptedByEdit(ghost, change.text) : undefined;
    if (accepted === undefined) {
      return;
    }
    if (accepted === 'whole') {
      this.scheduleStatusRefresh(); // a whole accept: VS Code runs the item's command
      return;
    }
    this.notify(Methods.didPartiallyAcceptCompletion, {
      item: this.wireItem(ghost.id, ghost.text),
      acceptedLength: accepted,
    });
  }

  private wireItem(id: string, text: string): WireInlineCompletionItem {
    const { title, command, arguments: args } = acceptCommand(id);
    return { insertText: text, command: { title, command, arguments: args } };
  }

  private notify(method: string, params: unknown): void {
    const client = this.server.client;
    if (!client) {
      return;
    }
    client.sendNotification(method, params).catch((error: unknown) => {
      this.output.appendLine(`[usage] ${method} failed: ${String(error)}`);
    });
    this.scheduleStatusRefresh();
  }

  /** The status bar tooltip shows today's figures: refresh them a little after activity. */
  scheduleStatusRefresh(): void {
    if (this.refreshTimer) {
      return;
    }
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.server.refreshStatus();
    }, 2000);
  }

  dispose(): void {
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
    }
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}
