/** The API key lives in SecretStorage only: never in settings.json. */
import * as vscode from 'vscode';

const KEY = 'inkstream.apiKey';

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(): Thenable<string | undefined> {
    return this.secrets.get(KEY);
  }

  /** Fires when the key is set or cleared (also from another window). */
  onDidChange(listener: () => void): vscode.Disposable {
    return this.secrets.onDidChange((event) => {
      if (event.key === KEY) {
        listener();
      }
    });
  }

  async promptAndStore(): Promise<void> {
    const value = await vscode.window.showInputBox({
      title: 'inkstream: Set API Key',
      prompt: 'API key for the OpenAI-compatible endpoint. Stored in VS Code secret storage, never in settings. Leave empty to remove it.',
      password: true,
      ignoreFocusOut: true,
      placeHolder: 'sk-…',
    });
    if (value === undefined) {
      return;
    }
    if (value.trim() === '') {
      await this.secrets.delete(KEY);
      void vscode.window.showInformationMessage('inkstream: API key removed.');
      return;
    }
    await this.secrets.store(KEY, value.trim());
    void vscode.window.showInformationMessage('inkstream: API key saved; the server restarts to use it.');
  }

  async clear(): Promise<void> {
    await this.secrets.delete(KEY);
    void vscode.window.showInformationMessage('inkstream: API key removed.');
  }
}
