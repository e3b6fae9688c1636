/**
 * Typed settings (section `inkstream`), workspace-trust gating, and the mapping to the server's
 * keys (docs/protocol.md "Settings"). Pure: VS Code's configuration is passed in as an interface.
 */

export type ApiStyle = 'auto' | 'fim' | 'chat';

export interface ExtensionSettings {
  baseUrl?: string;
  model?: string;
  apiStyle?: ApiStyle;
  maxTokens?: number;
  enable?: Record<string, boolean>;
  proxy?: string;
  /** The proxy comes from workspace settings (a cloned repository's), not the user's. */
  proxyFromWorkspace?: true;
  caFile?: string;
  serverCommand?: string[];
  pricing?: Record<string, Price>;
  budget?: Budget;
  nextEdit?: NextEditSettings;
}

/** `inkstream.nextEdit.*`: `enable` is also the client's switch; the rest is the server's (docs/protocol.md). */
export interface NextEditSettings {
  enable?: boolean;
  model?: string;
  baseUrl?: string;
  format?: string;
}

/** Price per million tokens (docs/usage.md). */
export interface Price {
  input: number;
  output: number;
}

export interface Budget {
  dailyCost?: number;
  dailyTokens?: number;
}

/** The server's wire settings (camelCase, protocol.md); only what the user configured is sent. */
export interface ServerSettings {
  baseUrl?: string;
  model?: string;
  apiStyle?: ApiStyle;
  maxTokens?: number;
  enable?: Record<string, boolean>;
  pricing?: Record<string, Price>;
  budget?: Budget;
  proxy?: string;
  caFile?: string;
  nextEdit?: NextEditSettings;
}

/** Subset of vscode.WorkspaceConfiguration.inspect()'s result. */
export interface InspectResult<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

export interface ConfigurationLike {
  inspect<T>(key: string): InspectResult<T> | undefined;
}

/** Settings that a cloned repository must not control in an untrusted workspace. */
export const RESTRICTED_KEYS = ['baseUrl', 'serverCommand', 'proxy', 'caFile', 'nextEdit.baseUrl'] as const;

const SERVER_KEYS = ['baseUrl', 'model', 'apiStyle', 'maxTokens', 'enable', 'pricing', 'budget', 'proxy', 'caFile', 'nextEdit'] as const satisfies readonly (keyof ServerSettings)[];
const API_STYLES: readonly string[] = ['auto', 'fim', 'chat'];

/**
 * The value the user configured, or undefined when only the default applies. In an untrusted
 * workspace, restricted keys come from user (global) settings only.
 */
export function configuredValue<T>(config: ConfigurationLike, key: string, trusted: boolean): T | undefined {
  const info = config.inspect<T>(key);
  if (!info) {
    return undefined;
  }
  if (!trusted && (RESTRICTED_KEYS as readonly string[]).includes(key)) {
    return info.globalValue;
  }
  return info.workspaceFolderValue ?? info.workspaceValue ?? info.globalValue;
}

/** Reads and validates the section; bad values are dropped (the server's defaults then apply). */
export function readSettings(config: ConfigurationLike, trusted: boolean): ExtensionSettings {
  const out: ExtensionSettings = {};
  const baseUrl = configuredValue<unknown>(config, 'baseUrl', trusted);
  if (typeof baseUrl === 'string' && baseUrl.trim() !== '') {
    out.baseUrl = baseUrl.trim();
  }
  for (const key of ['model', 'proxy', 'caFile'] as const) {
    const value = configuredValue<unknown>(config, key, trusted);
    if (typeof value === 'string' && value.trim() !== '') {
      out[key] = value.trim();
    }
  }
  const proxyInfo = config.inspect<unknown>('proxy');
  if (out.proxy !== undefined && trusted && (proxyInfo?.workspaceFolderValue ?? proxyInfo?.workspaceValue) !== undefined) {
    out.proxyFromWorkspace = true;
  }
  const apiStyle = configuredValue<unknown>(config, 'apiStyle', trusted);
  if (typeof apiStyle === 'string' && API_STYLES.includes(apiStyle)) {
    out.apiStyle = apiStyle as ApiStyle;
  }
  const maxTokens = configuredValue<unknown>(config, 'maxTokens', trusted);
  if (typeof maxTokens === 'number' && Number.isFinite(maxTokens) && maxTokens >= 1) {
    out.maxTokens = Math.floor(maxTokens);
  }
  const enable = configuredValue<unknown>(config, 'enable', trusted);
  if (typeof enable === 'object' && enable !== null && !Array.isArray(enable)) {
    const entries = Object.entries(enable as Record<string, unknown>).filter(
      (entry): entry is [string, boolean] => typeof entry[1] === 'boolean',
    );
    out.enable = Object.fromEntries(entries);
  }
  const pricing = configuredValue<unknown>(config, 'pricing', trusted);
  if (isRecord(pricing)) {
    const entries = Object.entries(pricing).filter(
      (entry): entry is [string, Price] => isRecord(entry[1]) && isAmount(entry[1].input) && isAmount(entry[1].output),
    );
    out.pricing = Object.fromEntries(entries.map(([model, p]) => [model, { input: p.input, output: p.output }]));
  }
  const budget = configuredValue<unknown>(config, 'budget', trusted);
  if (isRecord(budget)) {
    const limits: Budget = {};
    if (isAmount(budget.dailyCost)) {
      limits.dailyCost = budget.dailyCost;
    }
    if (isAmount(budget.dailyTokens)) {
      limits.dailyTokens = Math.floor(budget.dailyTokens);
    }
    out.budget = limits;
  }
  const nextEdit: NextEditSettings = {};
  const nextEnable = configuredValue<unknown>(config, 'nextEdit.enable', trusted);
  if (typeof nextEnable === 'boolean') {
    nextEdit.enable = nextEnable;
  }
  for (const key of ['model', 'baseUrl', 'format'] as const) {
    const value = configuredValue<unknown>(config, `nextEdit.${key}`, trusted);
    if (typeof value === 'string' && value.trim() !== '') {
      nextEdit[key] = value.trim();
    }
  }
  if (Object.keys(nextEdit).length > 0) {
    out.nextEdit = nextEdit;
  }
  const command = configuredValue<unknown>(config, 'serverCommand', trusted);
  if (Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === 'string')) {
    out.serverCommand = command;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * Which way settings reach the server: `init` (initializationOptions, which the server trusts like
 * the user's own environment) or `workspace` (answers to workspace/configuration and
 * didChangeConfiguration, where the server refuses proxy credentials).
 */
export type Channel = 'init' | 'workspace';

/**
 * Extension settings → the server's keys. Unset values are left out so env and defaults still apply.
 * A proxy URL with credentials goes one way only: the user's in `init`; a workspace's in `workspace`,
 * so that the server refuses it with its own message rather than trusting a cloned repository.
 */
export function toServerSettings(settings: ExtensionSettings, channel: Channel = 'workspace'): ServerSettings {
  const out: ServerSettings = {};
  for (const key of SERVER_KEYS) {
    const value = settings[key];
    if (value !== undefined) {
      (out as Record<string, unknown>)[key] = value;
    }
  }
  if (out.proxy !== undefined && hasCredentials(out.proxy) && (channel === 'init') === (settings.proxyFromWorkspace === true)) {
    delete out.proxy;
  }
  return out;
}

/** Whether a proxy URL carries a user name or password. */
export function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return /^[^/]*\/\/[^/@]*@/.test(url); // not a URL: be safe if it looks like one with user info
  }
}

/** initializationOptions: the server settings plus the key from SecretStorage (never from settings.json). */
export function initializationOptions(settings: ExtensionSettings, apiKey: string | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = { ...toServerSettings(settings, 'init') };
  if (apiKey) {
    options.apiKey = apiKey;
  }
  return options;
}

/** True when a key sent at start-up is no longer set: only a restart drops it from initializationOptions. */
export function needsRestart(sent: ServerSettings, next: ServerSettings): boolean {
  return Object.keys(sent).some((key) => !(key in next));
}

/** Next-edit suggestions are on unless `inkstream.nextEdit.enable` is false. */
export function isNextEditEnabled(settings: ExtensionSettings): boolean {
  return settings.nextEdit?.enable !== false;
}

export function isLanguageEnabled(enable: Record<string, boolean> | undefined, languageId: string): boolean {
  if (!enable) {
    return true;
  }
  return enable[languageId] ?? enable['*'] ?? true;
}

/** `${workspaceFolder}`, `${userHome}` and a leading `~` in each part of the server command. */
export function expandCommand(command: readonly string[], vars: { workspaceFolder?: string; home: string }): string[] {
  return command.map((part) => {
    let out = part.replace(/\$\{userHome\}/g, vars.home);
    if (vars.workspaceFolder !== undefined) {
      out = out.replace(/\$\{workspaceFolder\}/g, vars.workspaceFolder);
    }
    if (out === '~' || out.startsWith('~/')) {
      out = vars.home + out.slice(1);
    }
    return out;
  });
}

/** `python -m inkstream serve` for an interpreter. */
export function pythonServerCommand(python: string): string[] {
  return [python, '-m', 'inkstream', 'serve'];
}

/** The same command asking only for the version (cheap: the package import stays light), or undefined. */
export function versionCommand(command: readonly string[]): string[] | undefined {
  const serve = command.indexOf('serve');
  if (serve < 1) {
    return undefined;
  }
  return [...command.slice(0, serve), '--version'];
}

function shellQuote(part: string): string {
  return /^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replace(/'/g, `'\\''`)}'`;
}

/** The install command to show when the server is missing. */
export function installCommand(command: readonly string[]): string {
  const module = command.indexOf('-m');
  if (module >= 1 && command[module + 1] === 'inkstream') {
    return `${command.slice(0, module).map(shellQuote).join(' ')} -m pip install inkstream`;
  }
  return 'python3 -m pip install inkstream';
}
