/** **inkstream: Show Usage**: a webview with a chart per day, from `inkstream/usage`. */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { Methods, type UsageReport } from '../protocol';
import type { ServerManager } from '../server';
import { renderUsage } from './render';

export const USAGE_DAYS = 30;

export class UsageView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  constructor(
    private readonly server: ServerManager,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  async show(): Promise<void> {
    const client = this.server.client;
    if (!client) {
      void vscode.window.showErrorMessage('inkstream: the server is not running, so there is no usage to show.');
      return;
    }
    let report: UsageReport;
    try {
      report = await client.sendRequest<UsageReport>(Methods.usage, { days: USAGE_DAYS });
    } catch (error) {
      this.output.appendLine(`[usage] ${Methods.usage} failed: ${String(error)}`);
      void vscode.window.showErrorMessage(`inkstream: could not read usage (${String(error)})`);
      return;
    }
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('inkstream.usage', 'inkstream usage', vscode.ViewColumn.Active, {
        enableScripts: false,
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    }
    this.panel.webview.html = renderUsage(report, crypto.randomBytes(16).toString('base64'));
    this.panel.reveal();
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
