// The smallest VS Code extension that starts `policykb lsp` for the YAML files of a knowledge
// base (docs/editor.md). Everything it knows comes from the server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("policykb").get("command");
  client = new LanguageClient("policykb", "policykb", { command, args }, {
    documentSelector: [{ scheme: "file", language: "yaml" }],
  });
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
