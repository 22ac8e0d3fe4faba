// Unit test of extension.js without VS Code: `vscode` and `vscode-languageclient/node` are replaced by
// stubs that record what the extension asks for. Run with `node --test tests/`.
"use strict";

const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");
const { test, beforeEach } = require("node:test");

const state = {};

function reset(settings = {}, vg = {}) {
  state.settings = { command: ["vgc", "lsp"], enabled: true, ...settings };
  state.vg = { ...vg };
  state.clients = [];
  state.errors = [];
  state.configListeners = [];
  state.failStart = false;
}

class FakeClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, started: false, stopped: false });
    state.clients.push(this);
  }
  async start() {
    if (state.failStart) {
      throw new Error("spawn vgc ENOENT");
    }
    this.started = true;
  }
  async stop() {
    this.stopped = true;
  }
}

const fakeVscode = {
  workspace: {
    getConfiguration: (section) => {
      assert.ok(section === "vg.server" || section === "vg", section);
      const values = section === "vg" ? state.vg : state.settings;
      return { get: (key, fallback) => (key in values ? values[key] : fallback) };
    },
    onDidChangeConfiguration: (listener) => {
      state.configListeners.push(listener);
      return { dispose() {} };
    },
  },
  window: {
    createOutputChannel: (name) => ({ name, dispose() {} }),
    showErrorMessage: (message) => state.errors.push(message),
  },
};
const fakeClientModule = { LanguageClient: FakeClient, TransportKind: { stdio: 0, ipc: 1, pipe: 2, socket: 3 } };

const originalLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === "vscode") return fakeVscode;
  if (request === "vscode-languageclient/node") return fakeClientModule;
  return originalLoad.call(this, request, parent, isMain);
};
const extension = require(path.join(__dirname, "..", "extension.js"));

function context() {
  return { subscriptions: [] };
}

beforeEach(() => reset());

test("activate starts `vgc lsp` over stdio for vg documents; deactivate stops it", async () => {
  const ctx = context();
  await extension.activate(ctx);
  assert.equal(state.clients.length, 1);
  const client = state.clients[0];
  assert.ok(client.started);
  for (const options of [client.serverOptions.run, client.serverOptions.debug]) {
    assert.deepEqual(options, { command: "vgc", args: ["lsp"], transport: 0 });
  }
  assert.deepEqual(client.clientOptions.documentSelector, [{ scheme: "file", language: "vg" }, { language: "vg" }]);
  assert.ok(ctx.subscriptions.length >= 2);
  await extension.deactivate();
  assert.ok(client.stopped);
  assert.deepEqual(state.errors, []);
});

test("vg.model and vg.data go to the server as initializationOptions; the vg section is synchronized", async () => {
  await extension.activate(context());
  let options = state.clients[0].clientOptions;
  assert.deepEqual(options.initializationOptions, { model: null, data: null });
  assert.deepEqual(options.synchronize, { configurationSection: "vg" });
  await extension.deactivate();

  reset({}, { model: "models.py:eight_schools", data: "data.json" });
  await extension.activate(context());
  options = state.clients[0].clientOptions;
  assert.deepEqual(options.initializationOptions, { model: "models.py:eight_schools", data: "data.json" });
  // changing them does not restart the server: the client sends workspace/didChangeConfiguration
  await state.configListeners[0]({ affectsConfiguration: (s) => s === "vg" || s === "vg.model" });
  assert.equal(state.clients.length, 1);
  await extension.deactivate();
});

test("vg.server.command picks the program and its arguments", async () => {
  reset({ command: ["/venv/bin/python", "-m", "vgc", "lsp"] });
  await extension.activate(context());
  assert.deepEqual(state.clients[0].serverOptions.run, {
    command: "/venv/bin/python",
    args: ["-m", "vgc", "lsp"],
    transport: 0,
  });
  await extension.deactivate();
});

test("changing vg.server restarts the server with the new command", async () => {
  await extension.activate(context());
  state.settings.command = ["vgc-dev", "lsp"];
  await state.configListeners[0]({ affectsConfiguration: (s) => s === "vg.server" });
  assert.equal(state.clients.length, 2);
  assert.ok(state.clients[0].stopped);
  assert.ok(state.clients[1].started);
  assert.equal(state.clients[1].serverOptions.run.command, "vgc-dev");
  await state.configListeners[0]({ affectsConfiguration: () => false });
  assert.equal(state.clients.length, 2);
  await extension.deactivate();
});

test("a bad command or a server that does not start is reported, not thrown", async () => {
  reset({ command: [] });
  await extension.activate(context());
  assert.equal(state.clients.length, 0);
  assert.match(state.errors[0], /vg\.server\.command/);

  reset();
  state.failStart = true;
  await extension.activate(context());
  assert.match(state.errors[0], /could not start the language server `vgc lsp`/);
  await extension.deactivate();
});

test("vg.server.enabled false starts nothing", async () => {
  reset({ enabled: false });
  await extension.activate(context());
  assert.equal(state.clients.length, 0);
  await extension.deactivate();
});
