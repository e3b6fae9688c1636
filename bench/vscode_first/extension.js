// The smallest streaming ghost-text extension (the baseline of bench/vscode_first.py): an inline
// completion provider that sends one request to a bare pygls relay and shows the first partial
// result the moment it arrives. Bundled by the benchmark with the same vscode-languageclient
// inkstream uses; MINI_PYTHON and MINI_RELAY (environment) say how to start the relay.
// Also the smallest explain panel (the baseline of bench/vscode_explain_stop.py): "mini: Explain"
// opens a webview with a Stop button, streams one request's deltas into it as plain text, and
// cancels the request on Stop or when the panel closes.
const vscode = require('vscode');
const { LanguageClient, ProgressType } = require('vscode-languageclient/node');

const partial = new ProgressType();
let client;
let counter = 0;

exports.activate = async (context) => {
  client = new LanguageClient(
    'miniRelay',
    'mini relay',
    { command: process.env.MINI_PYTHON, args: [process.env.MINI_RELAY] },
    { documentSelector: [{ scheme: 'file' }] },
  );
  await client.start();
  context.subscriptions.push(
    vscode.commands.registerCommand('mini.restart', () => client.restart()),
    vscode.commands.registerCommand('mini.explain', explain),
    vscode.languages.registerInlineCompletionItemProvider({ scheme: 'file' }, {
      provideInlineCompletionItems(document, position, _context, token) {
        const partialResultToken = `mini-${++counter}`;
        const item = (text) => [new vscode.InlineCompletionItem(text, new vscode.Range(position, position))];
        return new Promise((resolve) => {
          const sub = client.onProgress(partial, partialResultToken, (value) => {
            if (value.text.trim()) {
              resolve(item(value.text));
            }
          });
          const prefix = document.getText(new vscode.Range(new vscode.Position(0, 0), position));
          client.sendRequest('mini/complete', { prefix, partialResultToken }, token).then(
            (result) => resolve(result.text.trim() ? item(result.text) : []),
            () => resolve([]),
          ).finally(() => sub.dispose());
        });
      },
    }),
  );
};

/** One explanation in a panel of its own: deltas appended as they come; Stop or closing cancels. */
async function explain() {
  const editor = vscode.window.activeTextEditor;
  const source = new vscode.CancellationTokenSource();
  const panel = vscode.window.createWebviewPanel('mini.explain', 'mini: Explain',
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true });
  panel.webview.html = `<!DOCTYPE html><html><body class="streaming">
<header><span id="note"></span><button id="stop">Stop</button></header><main id="content"></main>
<script>
  const vscode = acquireVsCodeApi();
  document.getElementById('stop').addEventListener('click', () => vscode.postMessage('stop'));
  window.addEventListener('message', ({ data }) => {
    if (data.delta) document.getElementById('content').append(data.delta);
    if (data.state) document.body.className = data.state;
  });
</script></body></html>`;
  let open = true;
  const post = (message) => open && void panel.webview.postMessage(message);
  panel.webview.onDidReceiveMessage(() => source.cancel());
  panel.onDidDispose(() => {
    open = false;
    source.cancel();
  });
  const partialResultToken = `mini-explain-${++counter}`;
  const sub = client.onProgress(partial, partialResultToken, (value) => post({ delta: value.delta }));
  try {
    await client.sendRequest('mini/explain', { text: editor.document.getText(editor.selection), partialResultToken }, source.token);
    post({ state: 'done' });
  } catch {
    post({ state: 'stopped' });
  } finally {
    sub.dispose();
  }
}

exports.deactivate = () => client?.stop();
