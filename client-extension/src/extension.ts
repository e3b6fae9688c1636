/** activate/deactivate only: build the parts, register commands, start the server. */
import * as vscode from 'vscode';
import { ExplainController } from './explain/panel';
import { InlineProvider } from './inline/provider';
import { ApiKeyStore } from './secrets';
import { ServerManager } from './server';
import { StatusBar } from './status';
import { UsageReporter } from './usage/reporter';
import { UsageView } from './usage/view';

export interface InkstreamApi {
  server: ServerManager;
  inline: InlineProvider;
}

let manager: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): InkstreamApi {
  const output = vscode.window.createOutputChannel('inkstream', { log: true });
  const status = new StatusBar();
  const keys = new ApiKeyStore(context.secrets);
  const server = new ServerManager(output, keys, status);
  manager = server;
  const usage = new UsageReporter(server, output);
  const inline = new InlineProvider(server, status, output, usage);
  const usageView = new UsageView(server, output);
  const explain = new ExplainController(server, status, output);

  context.subscriptions.push(
    output,
    status,
    server,
    usage,
    inline,
    explain,
    usageView,
    vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }], inline),
    vscode.commands.registerCommand('inkstream.explainSelection', () => explain.explainSelection()),
    vscode.commands.registerCommand('inkstream.setApiKey', () => keys.promptAndStore()),
    vscode.commands.registerCommand('inkstream.clearApiKey', () => keys.clear()),
    vscode.commands.registerCommand('inkstream.restartServer', () => server.restart()),
    vscode.commands.registerCommand('inkstream.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('inkstream.dismiss', () => inline.dismiss()),
    vscode.commands.registerCommand('inkstream.showStatus', () => showStatus(server, status, output)),
    vscode.commands.registerCommand('inkstream.showUsage', () => usageView.show()),
  );
  void server.start();
  return { server, inline };
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
}

/** Status bar click: the active endpoint and model, the last error, and what to do next. */
async function showStatus(server: ServerManager, status: StatusBar, output: vscode.LogOutputChannel): Promise<void> {
  const info = (await server.refreshStatus()) ?? status.serverInfo;
  const lastError = info?.lastError ?? status.error;
  type Item = vscode.QuickPickItem & { run?: () => unknown };
  const items: Item[] = [
    { label: 'Provider', description: info ? (info.provider === 'offline' ? 'offline model (built in)' : info.provider) : 'server not running', kind: vscode.QuickPickItemKind.Default },
    { label: 'Endpoint', description: info?.baseUrl ?? (info?.provider === 'offline' ? '—' : '(default)') },
    { label: 'Model', description: info?.model ?? '—' },
    { label: 'API style', description: info?.apiStyle ?? '—' },
    { label: 'Last error', description: lastError ?? 'none' },
    ...(info?.emptyReason ? [{ label: 'Last completion', description: info.emptyReason }] : []),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(key) Set API Key', run: () => vscode.commands.executeCommand('inkstream.setApiKey') },
    { label: '$(gear) Open Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'inkstream') },
    { label: '$(output) Show Server Output', run: () => output.show(true) },
    { label: '$(debug-restart) Restart Server', run: () => server.restart() },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'inkstream status', placeHolder: lastError ? `Last error: ${lastError}` : 'inkstream' });
  if (picked?.run) {
    await picked.run();
  } else if (picked?.label === 'Last error' && lastError) {
    void vscode.window.showErrorMessage(`inkstream: ${lastError}`);
  }
}
