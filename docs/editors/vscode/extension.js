// attune workflows for VS Code: a thin client that starts `attune lsp` for
// YAML files. The server decides which files are workflows (a pack's
// workflows/ or actions/workflows/) and ignores every other YAML file.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

async function activate(context) {
  const config = vscode.workspace.getConfiguration("attune");
  const command = config.get("path") || "attune";
  const rulesUrl = config.get("rulesUrl");
  const initializationOptions = rulesUrl ? { rulesUrl } : {};
  client = new LanguageClient(
    "attune",
    "attune",
    { command, args: ["lsp"] },
    {
      documentSelector: [{ scheme: "file", language: "yaml" }],
      initializationOptions,
    },
  );
  context.subscriptions.push(
    vscode.commands.registerCommand("attune.restart", () => client.restart()),
  );
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
