// Microsoft's LSP client library (vscode-languageserver-protocol over vscode-jsonrpc, as VS Code's
// vscode-languageclient uses it) driving one language server over stdio, for bench/latency.py
// (`--client vscode`): the cancel paths measured through the client most editors' extensions use.
//
// Told what to do by JSON lines on stdin, answers JSON lines on stdout. Times are CLOCK_MONOTONIC
// seconds (process.hrtime), the clock of Python's time.monotonic(), so the benchmark can set them
// against the upstream's record of the hang-up.
//   {"op": "start", "command": [...], "env": {...}, "init": {...}, "docs": [[uri, text], ...]}
//   {"op": "run", "path": "$/cancelRequest" | "window/workDoneProgress/cancel" | "exit",
//    "method": ..., "params": {...}}   -> request; at its first partial result, stop it by `path`
//                                        -> {"t0": when the stop was sent}
//   {"op": "stop"}                     -> shutdown, exit, and this process ends
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(new URL('../client-extension/package.json', import.meta.url));
const {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  CancellationTokenSource,
  ProgressType,
} = require('vscode-languageserver-protocol/node');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const partialResult = new ProgressType();
let connection;
let server;

async function start({ command, env, init, docs }) {
  server = spawn(command[0], command.slice(1), { env, stdio: ['pipe', 'pipe', 'inherit'] });
  connection = createProtocolConnection(
    new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin),
  );
  connection.onRequest((method, params) =>
    method === 'workspace/configuration' ? params.items.map(() => null) : null,
  );
  connection.onNotification(() => {});
  connection.onError(() => {});
  connection.onClose(() => {});
  connection.listen();
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: { window: { workDoneProgress: true } },
    initializationOptions: init,
  });
  connection.sendNotification('initialized', {});
  for (const [uri, text] of docs) {
    connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 1, text },
    });
  }
  return {};
}

async function run({ path, method, params }) {
  const source = new CancellationTokenSource();
  // as vscode-languageclient's client.onProgress(type, token, handler) does
  let subscription;
  const firstPartial = new Promise((resolve) => {
    subscription = connection.onProgress(partialResult, params.partialResultToken, resolve);
  });
  const settled = connection.sendRequest(method, params, source.token).then(
    () => 'answered',
    (error) => `error ${error?.code ?? error}`,
  );
  await firstPartial;
  if (process.env.CANCEL_DELAY_MS) {
    await new Promise((r) => setTimeout(r, Number(process.env.CANCEL_DELAY_MS)));
  }
  const t0 = now();
  if (path === '$/cancelRequest') {
    source.cancel(); // the library sends $/cancelRequest for the request's id
  } else if (path === 'window/workDoneProgress/cancel') {
    connection.sendNotification('window/workDoneProgress/cancel', { token: params.workDoneToken });
  } else if (path === 'exit') {
    connection.sendNotification('exit');
    subscription.dispose();
    return { t0, outcome: 'exited' };
  } else {
    throw new Error(`unknown path ${path}`);
  }
  subscription.dispose();
  const outcome = await Promise.race([settled, new Promise((r) => setTimeout(() => r('no answer in 5 s'), 5000))]);
  return { t0, outcome };
}

async function stop() {
  try {
    await Promise.race([connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 5000))]);
    connection.sendNotification('exit');
  } catch {
    // an exited server answers nothing
  }
  await new Promise((resolve) => {
    if (server.exitCode !== null || server.signalCode !== null) {
      resolve();
    } else {
      server.once('exit', resolve);
      setTimeout(() => (server.kill(), resolve()), 5000);
    }
  });
  connection.dispose();
  answer({});
  process.exit(0);
}

const ops = { start, run, stop };
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  try {
    answer(await ops[message.op](message));
  } catch (error) {
    answer({ error: String(error?.stack ?? error) });
  }
}
