// The smallest streaming ghost-text extension (the baseline of bench/vscode_first.py): an inline
// completion provider that sends one request to a bare pygls relay and shows the first partial
// result the moment it arrives. Bundled by the benchmark with the same vscode-languageclient
// inkstream uses; MINI_PYTHON and MINI_RELAY (environment) say how to start the relay.
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

exports.deactivate = () => client?.stop();
