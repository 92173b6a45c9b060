// The Gov extension: starts `govc lsp` and connects it to VS Code.
//
// Everything language-aware (diagnostics, hover, navigation, rename, completion, symbols,
// semantic tokens, formatting, quick fixes, "Run test" lenses) comes from the server. The
// server announces the `gov.runTest` command in its capabilities, so the language client
// registers it and the lenses' clicks go straight back to the server, which runs the test
// in-process and answers with `window/showMessage`.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const config = vscode.workspace.getConfiguration("gov");
  const command = config.get<string>("serverPath") || "govc";
  return {
    run: { command, args: ["lsp"] },
    debug: { command, args: ["lsp"] },
  };
}

function clientOptions(): LanguageClientOptions {
  const config = vscode.workspace.getConfiguration("gov");
  const docsUrl = config.get<string>("docsUrl");
  return {
    documentSelector: [
      { scheme: "file", language: "gov" },
      { scheme: "untitled", language: "gov" },
    ],
    initializationOptions: docsUrl ? { docsUrl } : {},
    synchronize: {
      // Sibling files of an open document are part of its package: tell the server when
      // they change on disk.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.gov"),
    },
  };
}

async function start(): Promise<void> {
  client = new LanguageClient("gov", "Gov", serverOptions(), clientOptions());
  try {
    await client.start();
  } catch (error) {
    const path = vscode.workspace.getConfiguration("gov").get<string>("serverPath");
    void vscode.window.showErrorMessage(
      `Gov: could not start \`${path} lsp\` (${error}). Install govc or set "gov.serverPath".`,
    );
  }
}

async function stop(): Promise<void> {
  if (client) {
    const running = client;
    client = undefined;
    if (running.isRunning()) {
      await running.stop();
    }
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("gov.restartServer", async () => {
      await stop();
      await start();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("gov.serverPath") || event.affectsConfiguration("gov.docsUrl")) {
        await stop();
        await start();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}
