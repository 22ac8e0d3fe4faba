// VG for VS Code: starts the vgc language server (`vgc lsp`, over stdio) for VG documents.
// Plain CommonJS, no build step. Highlighting comes from the TextMate grammars in syntaxes/ and works
// without the server.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

const SECTION = "vg.server";
const MODEL_SECTION = "vg";
let client;
let output;

// The model to check guides against (`vgc check --model`), for the server: initializationOptions at start,
// then workspace/didChangeConfiguration with the whole `vg` section (a `# vg: model=...` line in a file wins).
function modelSettings() {
  const config = vscode.workspace.getConfiguration(MODEL_SECTION);
  return { model: config.get("model", "") || null, data: config.get("data", "") || null };
}

function serverCommand() {
  const config = vscode.workspace.getConfiguration(SECTION);
  const command = config.get("command", ["vgc", "lsp"]);
  if (!Array.isArray(command) || command.length === 0 || !command.every((s) => typeof s === "string" && s)) {
    throw new Error('vg.server.command must be a non-empty list of strings, e.g. ["vgc", "lsp"]');
  }
  return command;
}

async function start() {
  if (!vscode.workspace.getConfiguration(SECTION).get("enabled", true)) {
    return;
  }
  let command;
  try {
    command = serverCommand();
  } catch (err) {
    vscode.window.showErrorMessage(`VG: ${err.message}`);
    return;
  }
  const [program, ...args] = command;
  const executable = { command: program, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "vg",
    "VG language server",
    { run: executable, debug: executable },
    {
      documentSelector: [
        { scheme: "file", language: "vg" },
        { language: "vg" },
      ],
      outputChannel: output,
      initializationOptions: modelSettings(),
      synchronize: { configurationSection: MODEL_SECTION },
    },
  );
  try {
    await client.start();
  } catch (err) {
    const shown = command.join(" ");
    vscode.window.showErrorMessage(
      `VG: could not start the language server \`${shown}\` (${err && err.message ? err.message : err}). ` +
        "Install it with `pip install 'vgc[lsp]'` or set vg.server.command.",
    );
    client = undefined;
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch {
      // The server may already be gone; nothing else to clean up.
    }
  }
}

async function activate(context) {
  output = vscode.window.createOutputChannel("VG language server");
  context.subscriptions.push(output);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration(SECTION)) {
        await stop();
        await start();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
