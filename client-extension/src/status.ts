/** Status bar: idle / streaming (tokens, tokens/s) / offline model / error. Click shows details. */
import * as vscode from 'vscode';
import { usageLine, type StatusResult } from './protocol';

export type ServerState = 'starting' | 'running' | 'stopped' | 'missing';

export interface StreamHandle {
  report(tokens: number, rate: number): void;
  /** Ends the stream; an error message puts the status bar in the error state; a note (why a
   * completion is empty, as the server says) shows until the next completion. */
  end(error?: string, note?: string): void;
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private serverState: ServerState = 'starting';
  private info: StatusResult | undefined;
  private lastError: string | undefined;
  private errorShown = false;
  private note: string | undefined;
  private readonly streams = new Map<number, { tokens: number; rate: number }>();
  private nextStream = 1;

  constructor() {
    this.item = vscode.window.createStatusBarItem('inkstream.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'inkstream';
    this.item.command = 'inkstream.showStatus';
    this.render();
    this.item.show();
  }

  get error(): string | undefined {
    return this.lastError;
  }

  get serverInfo(): StatusResult | undefined {
    return this.info;
  }

  setServerState(state: ServerState, error?: string): void {
    this.serverState = state;
    if (error) {
      this.setError(error);
    }
    this.render();
  }

  setServerInfo(info: StatusResult | undefined): void {
    this.info = info;
    if (info?.lastError) {
      this.lastError = info.lastError;
    }
    this.render();
  }

  setError(message: string): void {
    this.lastError = message;
    this.errorShown = true;
    this.render();
  }

  beginStream(): StreamHandle {
    const id = this.nextStream++;
    this.streams.set(id, { tokens: 0, rate: 0 });
    this.render();
    return {
      report: (tokens, rate) => {
        if (this.streams.has(id)) {
          this.streams.set(id, { tokens, rate });
          this.render();
        }
      },
      end: (error, note) => {
        this.streams.delete(id);
        this.note = note;
        if (error) {
          this.setError(error);
        } else {
          this.errorShown = false;
        }
        this.render();
      },
    };
  }

  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    const where = this.info
      ? this.info.provider === 'offline'
        ? 'built-in offline model'
        : `${this.info.model} at ${this.info.baseUrl ?? '(default endpoint)'}`
      : undefined;
    if (this.serverState === 'missing' || this.serverState === 'stopped') {
      item.text = '$(circle-slash) inkstream';
      item.tooltip = this.serverState === 'missing' ? 'inkstream: the server is not installed (click for details)' : 'inkstream: server stopped';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    if (this.serverState === 'starting') {
      item.text = '$(loading~spin) inkstream';
      item.tooltip = 'inkstream: starting the server…';
      return;
    }
    if (this.streams.size > 0) {
      let tokens = 0;
      let rate = 0;
      for (const stream of this.streams.values()) {
        tokens += stream.tokens;
        rate += stream.rate;
      }
      // A still icon: a spinning one animates every frame of the window's thread for as long as the
      // model writes, and delays clicks (Explain's Stop) behind it; the changing pace shows it is alive.
      item.text = tokens > 0 ? `$(pulse) ${tokens} tok · ${rate.toFixed(1)} tok/s` : '$(pulse) inkstream';
      item.tooltip = `inkstream: streaming from ${where ?? 'the model'}`;
      return;
    }
    if (this.errorShown && this.lastError) {
      item.text = '$(warning) inkstream';
      item.tooltip = `inkstream error: ${this.lastError} (click for details)`;
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      return;
    }
    const today = usageLine(this.info?.usage, this.info?.budget);
    if (this.note) {
      item.text = '$(info) inkstream';
      item.tooltip = `inkstream: ${this.note}${today ? `\n${today}` : ''}`;
      return;
    }
    if (this.info?.provider === 'offline') {
      item.text = '$(sparkle) inkstream: offline model';
      item.tooltip = `inkstream: using the built-in offline model (set inkstream.baseUrl to use an endpoint)${today ? `\n${today}` : ''}`;
      return;
    }
    item.text = '$(sparkle) inkstream';
    item.tooltip = `inkstream: idle${where ? ` (${where})` : ''}${today ? `\n${today}` : ''}`;
  }

  dispose(): void {
    this.item.dispose();
  }
}
