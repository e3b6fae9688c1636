/**
 * "inkstream: Explain Selection": streams `inkstream/explain` partial results (`{delta}`) into a
 * webview. The Stop button and closing the panel cancel the request (vscode-languageclient sends
 * `$/cancelRequest`, the server closes the upstream).
 *
 * The page shares its thread with the workbench: each update sends only the markdown blocks that
 * changed (see `renderBlocks`), so the page does not re-lay out the whole explanation every 50 ms
 * and a click on Stop or on the tab's close button is handled at once.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { ProgressType, WorkDoneProgress, type WorkDoneProgressReport } from 'vscode-languageclient/node';
import { isCancellation, isRpcError, Methods, parseTokenReport, type ExplainParams, type ExplainPartial, type ExplainResult } from '../protocol';
import type { ServerManager } from '../server';
import type { StatusBar } from '../status';
import { pageStep, planUpdate, renderBlocks } from './render';

const partialType = new ProgressType<ExplainPartial>();
const RENDER_MS = 50;

type PanelState = 'streaming' | 'done' | 'stopped' | 'error';

interface ViewState {
  title: string;
  blocks: string[];
  state: PanelState;
  note: string;
}

export class ExplainController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private current: vscode.CancellationTokenSource | undefined;
  private view: ViewState = { title: '', blocks: [], state: 'done', note: '' };
  /** The blocks the page shows, and the number of the last update sent (the page asks for all when it missed one). */
  private shown: string[] = [];
  private sent = 0;
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private counter = 0;

  constructor(
    private readonly server: ServerManager,
    private readonly status: StatusBar,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  async explainSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('inkstream: open a file and select the code to explain.');
      return;
    }
    const client = this.server.client;
    if (!client) {
      void vscode.window.showErrorMessage('inkstream: the server is not running. Run "inkstream: Restart Server" or see the "inkstream" output.');
      return;
    }
    const document = editor.document;
    const range = editor.selection.isEmpty ? document.lineAt(editor.selection.active.line).range : editor.selection;
    this.stop();
    const source = new vscode.CancellationTokenSource();
    this.current = source;
    const name = vscode.workspace.asRelativePath(document.uri);
    const lines = range.start.line === range.end.line ? `${range.start.line + 1}` : `${range.start.line + 1}–${range.end.line + 1}`;
    this.showPanel();
    this.view = { title: `${name}:${lines}`, blocks: [], state: 'streaming', note: 'Waiting for the model…' };
    this.post();

    const tag = `inkstream-explain-${process.pid}-${++this.counter}`;
    const params: ExplainParams = {
      textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri) },
      range: client.code2ProtocolConverter.asRange(range),
      partialResultToken: `${tag}-partial`,
      workDoneToken: `${tag}-work`,
    };
    let text = '';
    const stream = this.status.beginStream();
    // Progress shows in the panel (with its Stop) and as the pace in the status bar; no notification
    // toast with a second Cancel (issue 20 §5).
    const subscriptions: vscode.Disposable[] = [
      client.onProgress(partialType, `${tag}-partial`, (value) => {
        if (source.token.isCancellationRequested || typeof value?.delta !== 'string') {
          return;
        }
        text += value.delta;
        this.scheduleRender(() => text);
      }),
      client.onProgress(WorkDoneProgress.type, `${tag}-work`, (value) => {
        const report = parseTokenReport((value as WorkDoneProgressReport).message);
        if (report) {
          stream.report(report.tokens, report.rate);
          if (this.current === source) {
            this.view.note = `Streaming… ${report.tokens} tokens, ${report.rate.toFixed(1)} tok/s`;
          }
        }
      }),
    ];
    try {
      const result = await client.sendRequest<ExplainResult>(Methods.explain, params, source.token);
      if (this.current === source) {
        text = typeof result?.text === 'string' && result.text.length >= text.length ? result.text : text;
        this.finish(text, 'done', 'Done.');
      }
      stream.end();
    } catch (error) {
      const cancelled = source.token.isCancellationRequested || isCancellation(error);
      const message = isRpcError(error) ? error.message : String(error);
      if (this.current === source) {
        this.finish(text, cancelled ? 'stopped' : 'error', cancelled ? 'Stopped.' : `Error: ${message}`);
      }
      this.output.appendLine(`[explain] ${cancelled ? 'stopped' : `failed: ${message}`}`);
      stream.end(cancelled ? undefined : message);
    } finally {
      for (const subscription of subscriptions) {
        subscription.dispose();
      }
      if (this.current === source) {
        this.current = undefined;
      }
      source.dispose();
    }
  }

  /** Cancels the running explanation, if any (first: the log line can wait). */
  stop(): void {
    if (this.current && !this.current.token.isCancellationRequested) {
      this.current.cancel();
      this.output.appendLine('[explain] cancelling');
    }
  }

  private finish(text: string, state: PanelState, note: string): void {
    if (this.renderTimer !== undefined) {
      clearTimeout(this.renderTimer);
      this.renderTimer = undefined;
    }
    this.view = { ...this.view, blocks: renderBlocks(text), state, note };
    this.post();
  }

  private scheduleRender(text: () => string): void {
    if (this.renderTimer !== undefined) {
      return;
    }
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      if (this.view.state === 'streaming') {
        this.view.blocks = renderBlocks(text());
        this.post();
      }
    }, RENDER_MS);
  }

  private showPanel(): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      'inkstream.explain',
      'inkstream: Explain',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableCommandUris: false, localResourceRoots: [] },
    );
    this.panel = panel;
    this.shown = [];
    panel.webview.html = webviewHtml(panel.webview);
    panel.webview.onDidReceiveMessage((message: { type?: string }) => {
      if (message?.type === 'stop') {
        this.stop();
      } else if (message?.type === 'ready') {
        // A new page (first load, or reloaded after being hidden), or one that missed an update.
        this.shown = [];
        this.post();
      }
    });
    panel.onDidDispose(() => {
      this.stop(); // closing the panel cancels too
      this.panel = undefined;
    });
  }

  /** Sends the page what changed since the last update: the header, and the blocks from the first that differs. */
  private post(): void {
    if (!this.panel) {
      return;
    }
    const { title, blocks, state, note } = this.view;
    const update = planUpdate(this.shown, this.sent, blocks);
    this.shown = blocks;
    this.sent = update.update;
    void this.panel.webview.postMessage({ type: 'state', title, state, note, ...update });
  }

  dispose(): void {
    this.stop();
    this.panel?.dispose();
  }
}

/** Static page with a strict CSP: no remote content, only our nonce'd script and style; content arrives as rendered HTML. */
function webviewHtml(webview: vscode.Webview): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} https: data:`,
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>inkstream: Explain</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 24px; line-height: 1.5; }
  header { position: sticky; top: 0; display: flex; align-items: center; gap: 12px; padding: 10px 0; background: var(--vscode-editor-background); border-bottom: 1px solid var(--vscode-panel-border); }
  header h1 { font-size: 1.05em; margin: 0; flex: 1; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #note { opacity: 0.8; font-size: 0.92em; }
  button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 4px 12px; cursor: pointer; border-radius: 2px; }
  button:hover { background: var(--vscode-button-hoverBackground); }
  button:disabled { opacity: 0.4; cursor: default; }
  pre { background: var(--vscode-textCodeBlock-background); padding: 8px 10px; overflow-x: auto; }
  code { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
  body.streaming #content > :last-child::after { content: '▍'; opacity: 0.6; }
  body.error #note { color: var(--vscode-errorForeground); }
</style>
</head>
<body class="streaming">
<header><h1 id="title">inkstream: Explain</h1><span id="note"></span><button id="stop" title="Stop the model">Stop</button></header>
<main id="content"></main>
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  const stop = document.getElementById('stop');
  const title = document.getElementById('title');
  const note = document.getElementById('note');
  const content = document.getElementById('content');
  stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
  // The nodes of each block shown, and the last update applied (null: none yet, or one was missed).
  const blocks = [];
  let applied = null;
  const set = (node, key, value) => { if (node[key] !== value) node[key] = value; };
  const pageStep = ${pageStep.toString()};
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (!m || m.type !== 'state') return;
    set(title, 'textContent', m.title ? 'Explain ' + m.title : 'inkstream: Explain');
    set(note, 'textContent', m.note || '');
    set(document.body, 'className', m.state);
    set(stop, 'disabled', m.state !== 'streaming');
    const step = pageStep(applied, m.after);
    if (step !== 'apply') {
      // An update was missed: ask for everything once, and skip updates until it comes.
      if (step === 'resend') vscode.postMessage({ type: 'ready' });
      applied = null;
      return;
    }
    for (const nodes of blocks.splice(m.keep)) for (const node of nodes) node.remove();
    for (const html of m.append) {
      const template = document.createElement('template');
      template.innerHTML = html; // rendered by markdown-it with html disabled
      blocks.push([...template.content.childNodes]);
      content.append(template.content);
    }
    applied = m.update;
  });
  vscode.postMessage({ type: 'ready' });
</script>
</body>
</html>`;
}
