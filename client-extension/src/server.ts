/**
 * Starts, stops and restarts the inkstream language server (stdio) through vscode-languageclient.
 * Settings go in as initializationOptions and as answers to `workspace/configuration`; the server's
 * stderr goes to the "inkstream" output channel.
 */
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  type ConfigurationParams,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
  type DynamicFeature,
} from 'vscode-languageclient/node';
import { inkstreamCapabilities, Methods, type InkstreamCapabilities, type StatusResult } from './protocol';
import { proxyVars, readHttpSettings, serverProxyEnv, type ServerProxy } from './proxy';
import { onDidChangeInterpreter, selectedInterpreter } from './python';
import type { ApiKeyStore } from './secrets';
import {
  expandCommand,
  initializationOptions,
  installCommand,
  needsRestart,
  pythonServerCommand,
  readSettings,
  toServerSettings,
  versionCommand,
  type ExtensionSettings,
  type ServerSettings,
} from './settings';
import type { StatusBar } from './status';

/**
 * vscode-languageclient 9/10 registers its own InlineCompletionItemFeature, which would give VS Code a
 * second inline provider for this server. It is not exported, so it is recognised by its method and
 * never registered; our provider (src/inline/provider.ts) is the only one.
 */
class InkstreamLanguageClient extends LanguageClient {
  public override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as Partial<DynamicFeature<unknown>>).registrationType?.method;
    if (method === 'textDocument/inlineCompletion') {
      return;
    }
    super.registerFeature(feature);
  }

  /** Errors go to the output channel only: ServerManager shows one actionable message itself. */
  public override error(message: string, data?: unknown, _showNotification?: boolean | 'force'): void {
    super.error(message, data, false);
  }
}

/** The last lines the server wrote to stderr, to quote the cause when it dies. */
class StderrTail {
  private lines: string[] = [];

  add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 40) {
      this.lines.shift();
    }
  }

  /** The most telling line: the last exception line, else the last line. */
  cause(): string | undefined {
    const error = [...this.lines].reverse().find((line) => /^\w*(Error|Exception)\b|Error:/.test(line.trim()));
    return (error ?? this.lines[this.lines.length - 1])?.trim();
  }

  clear(): void {
    this.lines = [];
  }
}

export function currentSettings(): ExtensionSettings {
  return readSettings(vscode.workspace.getConfiguration('inkstream'), vscode.workspace.isTrusted);
}

/** The server's environment: VS Code's `http.proxy` applies when `inkstream.proxy` is unset (src/proxy.ts). */
export function serverProxy(settings: ExtensionSettings): ServerProxy {
  return serverProxyEnv(process.env, settings.proxy, readHttpSettings(vscode.workspace.getConfiguration('http')));
}

/** VS Code settings that change the server's proxy environment. */
const HTTP_PROXY_SETTINGS = ['http.proxy', 'http.noProxy', 'http.proxySupport'];

export class ServerManager implements vscode.Disposable {
  private current: LanguageClient | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changeEmitter = new vscode.EventEmitter<LanguageClient | undefined>();
  private sentSettings: ServerSettings = {};
  private sentCommand: string | undefined;
  private sentProxy: string | undefined;
  /** The proxy in initializationOptions: with the user's credentials it only goes there. */
  private sentInitProxy: string | undefined;
  private missingShownFor: string | undefined;
  private crashShownFor: string | undefined;
  private disposed = false;
  /** `experimental.inkstream` of the running server. */
  capabilities: InkstreamCapabilities | undefined;
  readonly onDidChangeClient = this.changeEmitter.event;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly keys: ApiKeyStore,
    private readonly status: StatusBar,
  ) {
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('inkstream') || HTTP_PROXY_SETTINGS.some((key) => event.affectsConfiguration(key))) {
          void this.settingsChanged();
        }
      }),
      keys.onDidChange(() => {
        this.output.appendLine('[client] API key changed: restarting the server');
        void this.restart();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.output.appendLine('[client] workspace trusted: restarting with workspace settings');
        void this.restart();
      }),
    );
    void onDidChangeInterpreter(() => {
      if (!currentSettings().serverCommand) {
        this.output.appendLine('[client] Python interpreter changed: restarting the server');
        void this.restart();
      }
    }).then((sub) => sub && this.disposables.push(sub));
  }

  /** The running client, if any. */
  get client(): LanguageClient | undefined {
    return this.current?.isRunning() ? this.current : undefined;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /** Asks the server for the active endpoint, model and last error. */
  async refreshStatus(): Promise<StatusResult | undefined> {
    const client = this.client;
    if (!client) {
      return undefined;
    }
    try {
      const info = await client.sendRequest<StatusResult>(Methods.status, {});
      this.status.setServerInfo(info);
      return info;
    } catch (error) {
      this.output.appendLine(`[client] inkstream/status failed: ${String(error)}`);
      return undefined;
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The server command: the setting, else the Python extension's interpreter, else python3. */
  async resolveCommand(settings: ExtensionSettings): Promise<string[]> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (settings.serverCommand) {
      return expandCommand(settings.serverCommand, { workspaceFolder: folder, home: os.homedir() });
    }
    const interpreter = await selectedInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri);
    return pythonServerCommand(interpreter ?? 'python3');
  }

  private async doStart(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.status.setServerState('starting');
    const settings = currentSettings();
    const command = await this.resolveCommand(settings);
    this.output.appendLine(`[client] server command: ${JSON.stringify(command)}`);
    const missing = await preflight(command);
    if (missing) {
      this.reportMissing(command, missing);
      return;
    }
    const apiKey = await this.keys.get();
    const initOptions = initializationOptions(settings, apiKey);
    this.sentSettings = toServerSettings(settings);
    this.sentInitProxy = toServerSettings(settings, 'init').proxy;
    this.sentCommand = JSON.stringify(command);
    const proxy = serverProxy(settings);
    this.sentProxy = proxyVars(proxy.env);
    this.output.appendLine(`[client] ${proxy.note}`);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command: command[0],
      args: command.slice(1),
      options: { cwd: folder, env: proxy.env },
    };
    const tail = new StderrTail();
    const crashes: number[] = [];
    let initialized = false;
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: initOptions,
      // Server stderr → the output channel, line by line (its own log lines carry their level).
      stdioOptions: {
        stdout: (input, channel) => readline.createInterface({ input, crlfDelay: Infinity }).on('line', (line) => channel.info(line)),
        stderr: (input, channel) =>
          readline.createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
            tail.add(line);
            channel.info(`[server] ${line}`);
          }),
      },
      initializationFailedHandler: () => false,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          // Restart a server that was working, at most 3 times in 3 minutes; one that dies during
          // start-up is reported once (by doStart) instead of being restarted in a loop.
          const now = Date.now();
          crashes.push(now);
          const recent = crashes.filter((t) => now - t < 180_000).length;
          if (this.disposed || !initialized || recent > 3) {
            if (initialized && !this.disposed) {
              this.reportCrash(command, tail.cause(), 'stopped repeatedly');
            }
            return { action: CloseAction.DoNotRestart, handled: true };
          }
          this.output.appendLine(`[client] the server exited (${tail.cause() ?? 'no message'}); restarting it`);
          return { action: CloseAction.Restart, handled: true };
        },
      },
      middleware: {
        workspace: {
          configuration: async (params: ConfigurationParams, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            const ours = toServerSettings(currentSettings());
            return params.items.map((item, index) => (item.section === 'inkstream' ? ours : answers[index]) as unknown);
          },
        },
      },
    };
    const client = new InkstreamLanguageClient('inkstream', 'inkstream', serverOptions, clientOptions);
    this.current = client;
    let failure: unknown;
    try {
      await client.start();
    } catch (error) {
      failure = error;
    }
    // A server that dies during initialize can leave start() resolved on a stopped client.
    if (failure !== undefined || !client.isRunning()) {
      const why = failure === undefined ? 'the server exited' : failure instanceof Error ? failure.message : JSON.stringify(failure);
      this.output.appendLine(`[client] start failed: ${why}`);
      this.current = undefined;
      await client.dispose(2000).catch(() => undefined);
      this.reportCrash(command, tail.cause() ?? why, 'did not start');
      return;
    }
    initialized = true;
    this.capabilities = inkstreamCapabilities(client.initializeResult?.capabilities.experimental);
    const info = client.initializeResult?.serverInfo;
    this.output.appendLine(
      `[client] connected to ${info?.name ?? '?'} ${info?.version ?? ''}; experimental.inkstream=${JSON.stringify(this.capabilities ?? null)}`,
    );
    this.status.setServerState('running');
    this.changeEmitter.fire(client);
    await this.refreshStatus();
  }

  private async doStop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    this.capabilities = undefined;
    this.changeEmitter.fire(undefined);
    if (client) {
      try {
        await client.stop(3000);
      } catch (error) {
        this.output.appendLine(`[client] stop: ${String(error)}`);
      }
    }
    this.status.setServerState('stopped');
  }

  private async settingsChanged(): Promise<void> {
    const settings = currentSettings();
    const command = JSON.stringify(await this.resolveCommand(settings));
    const next = toServerSettings(settings);
    // The proxy from VS Code's settings lives in the server's environment: only a restart changes it.
    const proxyChanged =
      proxyVars(serverProxy(settings).env) !== this.sentProxy || toServerSettings(settings, 'init').proxy !== this.sentInitProxy;
    if (!this.client || command !== this.sentCommand || proxyChanged || needsRestart(this.sentSettings, next)) {
      this.output.appendLine('[client] settings changed: restarting the server');
      await this.restart();
      return;
    }
    this.sentSettings = { ...this.sentSettings, ...next };
    await this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { inkstream: next } });
    await this.refreshStatus();
  }

  /** One message per failure kind and cause, with the server's own last words. */
  private reportCrash(command: string[], cause: string | undefined, what: string): void {
    if (cause && /No module named|ModuleNotFoundError/.test(cause)) {
      this.reportMissing(command, cause); // a missing dependency: (re)installing is the fix
      return;
    }
    const detail = cause ? `: ${cause}` : '';
    this.status.setServerState('stopped', `the server ${what}${detail}`);
    const key = `${what}|${cause ?? ''}`;
    if (this.crashShownFor === key) {
      return;
    }
    this.crashShownFor = key;
    void vscode.window
      .showErrorMessage(
        `inkstream: the server ${what}${detail}. Command: ${command.join(' ')}. See the "inkstream" output, then run "inkstream: Restart Server".`,
        'Show Output',
        'Restart Server',
      )
      .then((choice) => {
        if (choice === 'Show Output') {
          this.output.show(true);
        } else if (choice === 'Restart Server') {
          void this.restart();
        }
      });
  }

  private reportMissing(command: string[], problem: string): void {
    const install = installCommand(command);
    this.output.appendLine(`[client] the server cannot start: ${problem}`);
    this.output.appendLine(`[client] install it with: ${install}`);
    this.status.setServerState('missing', `the inkstream server is not installed (${problem}). Install it with: ${install}`);
    const key = JSON.stringify(command);
    if (this.missingShownFor === key) {
      return;
    }
    this.missingShownFor = key;
    const installAction = 'Install in Terminal';
    const copyAction = 'Copy Command';
    const settingsAction = 'Open Settings';
    void vscode.window
      .showErrorMessage(
        `inkstream: the language server is not installed for "${command[0]}" (${problem}). Install it with: ${install} — then run "inkstream: Restart Server".`,
        installAction,
        copyAction,
        settingsAction,
      )
      .then(async (choice) => {
        if (choice === installAction) {
          const terminal = vscode.window.createTerminal('inkstream install');
          terminal.show();
          terminal.sendText(install, true);
        } else if (choice === copyAction) {
          await vscode.env.clipboard.writeText(install);
        } else if (choice === settingsAction) {
          await vscode.commands.executeCommand('workbench.action.openSettings', 'inkstream.serverCommand');
        }
      });
  }

  dispose(): void {
    this.disposed = true;
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}

/** Runs the command with `--version` instead of `serve`; a description of the problem, or undefined when fine. */
function preflight(command: string[]): Promise<string | undefined> {
  const check = versionCommand(command);
  if (!check) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    execFile(check[0], check.slice(1), { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (!error) {
        resolve(undefined);
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        resolve(`${check[0]} was not found`);
      } else if ((error as { killed?: boolean }).killed) {
        resolve(undefined); // slow, not missing: let the real start decide
      } else {
        const lines = String(stderr).trim().split('\n');
        const last = lines[lines.length - 1] || error.message;
        resolve(last.startsWith(`${check[0]}: `) ? last.slice(check[0].length + 2) : last);
      }
    });
  });
}
