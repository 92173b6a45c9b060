//! The Gov language server, run by `govc lsp`.
//!
//! It speaks the Language Server Protocol over any byte streams ([`serve`]); `govc lsp`
//! uses standard input and output ([`run_stdio`]). Its state is one [`gov_db::Workspace`],
//! the salsa database `govc check` uses, behind a mutex: the text of open documents
//! overrides the disk, and the package of a document is the `.gov` files of its directory
//! (listed and read through `gov-driver`, as `govc check DIR` does, never in `gov-db`).
//! Every feature reads the database's memoised results: parses, checks, and each file's
//! line index, tokens and names, so an edit re-parses the items it touched and re-checks
//! its package, and a request re-computes nothing that did not change.
//!
//! Features: diagnostics (pushed on open, change and save), hover, go to definition, find
//! references, document highlights, rename (with prepare), completion, document and
//! workspace symbols, semantic tokens, formatting, code actions and "Run test" code lenses.

mod actions;
mod analysis;
mod completion;
mod diagnostics;
mod findings;
mod hover;
mod index;
mod lens;
mod navigation;
mod semantic;
mod snapshot;
mod state;
mod symbols;
mod transport;
mod witness;

pub use lens::RUN_TEST;

use analysis::Ctx;
use serde_json::{Value, json};
use state::State;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::jsonrpc::{self, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// Serves the protocol on `input` and `output` until the client sends `exit` or closes
/// `input`.
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let (service, socket) =
        LspService::build(Backend::new).custom_method(transport::MALFORMED, Backend::malformed).finish();
    // The client's bytes go through `transport::sanitize` on their way to the server.
    let (checked, server_input) = tokio::io::duplex(1 << 16);
    let server = Server::new(server_input, output, socket).serve(service);
    let guard = transport::sanitize(input, checked);
    tokio::pin!(server);
    tokio::pin!(guard);
    tokio::select! {
        () = &mut server => {}
        // The input ended (or failed): the server sees the end of its input and stops.
        _ = &mut guard => server.await,
    }
}

/// Serves the protocol on standard input and output (`govc lsp`).
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // A blocking read of stdin may still be pending: do not wait for it.
    runtime.shutdown_background();
    Ok(())
}

/// The server: the client handle and the state.
struct Backend {
    client: Client,
    /// Shared with the analysis runs ([`findings`]).
    state: Arc<Mutex<State>>,
}

/// The settings `initializationOptions` may carry.
fn options(params: &InitializeParams) -> state::Options {
    let docs_url = params
        .initialization_options
        .as_ref()
        .and_then(|o| o.get("docsUrl"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let snippets = params
        .capabilities
        .text_document
        .as_ref()
        .and_then(|t| t.completion.as_ref())
        .and_then(|c| c.completion_item.as_ref())
        .and_then(|i| i.snippet_support)
        .unwrap_or(false);
    let create_files =
        params.capabilities.workspace.as_ref().and_then(|w| w.workspace_edit.as_ref()).is_some_and(|e| {
            e.document_changes == Some(true)
                && e.resource_operations.as_ref().is_some_and(|r| r.contains(&ResourceOperationKind::Create))
        });
    let analysis_delay = params
        .initialization_options
        .as_ref()
        .and_then(|o| o.get("analysisDelayMs"))
        .and_then(Value::as_u64)
        .map(std::time::Duration::from_millis);
    state::Options { docs_url, snippets, create_files, analysis_delay }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
            ..TextDocumentSyncOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["(", ",", ".", "@", " "].map(str::to_owned).to_vec()),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: semantic::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            },
        )),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![lens::RUN_TEST.to_owned()],
            ..ExecuteCommandOptions::default()
        }),
        ..ServerCapabilities::default()
    }
}

/// Runs `f`, turning a panic (a bug) into an internal error rather than the end of the
/// server.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(jsonrpc::Error {
            message: "internal error in the Gov language server".into(),
            ..jsonrpc::Error::internal_error()
        })
    })
}

impl Backend {
    fn new(client: Client) -> Backend {
        Backend { client, state: Arc::new(Mutex::new(State::default())) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the context of an open document.
    fn with_ctx<T>(&self, uri: &Uri, f: impl FnOnce(&Ctx<'_>) -> Result<T>) -> Result<T> {
        let state = self.lock();
        guarded(|| {
            let ctx = Ctx::new(&state, uri)?;
            f(&ctx)
        })
    }

    /// Applies `update` to the state and publishes the diagnostics of the package it
    /// returns (clearing those of files the package no longer has); the analysis's findings
    /// follow after a pause ([`findings`]).
    async fn update(&self, update: impl FnOnce(&mut State) -> Option<String>) {
        let mut analyse = None;
        let published = {
            let mut state = self.lock();
            let analyse = &mut analyse;
            let before: HashSet<String> = state.packages.values().flat_map(|p| p.files.iter().cloned()).collect();
            let result = catch_unwind(AssertUnwindSafe(|| {
                let package = update(&mut state)?;
                let generation = state.generations.bump(&package);
                let delay = state.options.analysis_delay.unwrap_or(findings::DEFAULT_DELAY);
                *analyse = Some((package.clone(), generation, delay));
                let mut out = diagnostics::package_diagnostics(&mut state, &package);
                let after: HashSet<String> = state.packages.values().flat_map(|p| p.files.iter().cloned()).collect();
                for gone in before.difference(&after) {
                    if let Some(uri) = state.uris.get(gone) {
                        out.push((uri.clone(), Vec::new(), None));
                    }
                }
                Some(out)
            }));
            result.ok().flatten().unwrap_or_default()
        };
        for (uri, diagnostics, version) in published {
            self.client.publish_diagnostics(uri, diagnostics, version).await;
        }
        if let Some((package, generation, delay)) = analyse {
            let (client, state) = (self.client.clone(), Arc::clone(&self.state));
            tokio::spawn(findings::after_pause(client, state, package, generation, delay));
        }
    }
}

impl Backend {
    /// Answers a malformed message (see [`transport`]) with its error.
    async fn malformed(&self, params: Value) -> Result<Value> {
        Err(transport::answer(&params))
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        self.lock().options = options(&params);
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "govc lsp".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
            offset_encoding: None,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let document = params.text_document;
        self.update(|state| Some(state.open(document.uri, document.version, document.text))).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let document = params.text_document;
        self.update(|state| state.change(&document.uri, document.version, params.content_changes)).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.update(|state| state.reload(&params.text_document.uri)).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.update(|state| Some(state.close(&params.text_document.uri))).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut seen = HashSet::new();
        for change in params.changes {
            let key = state::key_of(&change.uri);
            let dir = std::path::Path::new(&key).parent().map(|d| d.to_string_lossy().into_owned());
            if dir.is_some_and(|d| seen.insert(d)) {
                self.update(|state| state.reload(&change.uri)).await;
            }
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        self.with_ctx(&at.text_document.uri, |ctx| Ok(hover::hover(ctx, at.position)))
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        self.with_ctx(&at.text_document.uri, |ctx| {
            let found = navigation::definition(ctx, at.position);
            Ok(match found.len() {
                0 => None,
                1 => found.into_iter().next().map(GotoDefinitionResponse::Scalar),
                _ => Some(GotoDefinitionResponse::Array(found)),
            })
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let include = params.context.include_declaration;
        self.with_ctx(&at.text_document.uri, |ctx| Ok(Some(navigation::references(ctx, at.position, include))))
    }

    async fn document_highlight(&self, params: DocumentHighlightParams) -> Result<Option<Vec<DocumentHighlight>>> {
        let at = params.text_document_position_params;
        self.with_ctx(&at.text_document.uri, |ctx| Ok(Some(navigation::highlights(ctx, at.position))))
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        self.with_ctx(&params.text_document.uri, |ctx| navigation::prepare_rename(ctx, params.position).map(Some))
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        self.with_ctx(&at.text_document.uri, |ctx| navigation::rename(ctx, at.position, &params.new_name))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        let snippets = self.lock().options.snippets;
        self.with_ctx(&at.text_document.uri, |ctx| {
            let found = completion::complete(ctx, at.position, snippets);
            Ok(Some(if found.incomplete {
                CompletionResponse::List(CompletionList { is_incomplete: true, items: found.items })
            } else {
                CompletionResponse::Array(found.items)
            }))
        })
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        self.with_ctx(&params.text_document.uri, |ctx| {
            Ok(Some(DocumentSymbolResponse::Nested(symbols::document_symbols(ctx))))
        })
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        let state = self.lock();
        guarded(|| Ok(Some(WorkspaceSymbolResponse::Nested(symbols::workspace_symbols(&state, &params.query)))))
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        self.with_ctx(&params.text_document.uri, |ctx| {
            Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data: semantic::tokens(ctx) })))
        })
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.with_ctx(&params.text_document.uri, |ctx| {
            let Some(formatted) = gov_syntax::format::format_source(ctx.text, &ctx.parsed) else { return Ok(None) };
            if formatted == ctx.text {
                return Ok(Some(Vec::new()));
            }
            let end = u32::try_from(ctx.text.len()).unwrap_or(u32::MAX);
            let range = state::range(&ctx.lines, ctx.text, 0, end);
            Ok(Some(vec![TextEdit { range, new_text: formatted }]))
        })
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.with_ctx(&params.text_document.uri, |ctx| {
            Ok(Some(actions::actions(ctx, params.range, &params.context.diagnostics)))
        })
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.with_ctx(&params.text_document.uri, |ctx| Ok(Some(lens::lenses(ctx))))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if params.command != lens::RUN_TEST {
            return Err(jsonrpc::Error::invalid_params(format!("unknown command `{}`", params.command)));
        }
        let (uri, name) = match params.arguments.as_slice() {
            [Value::String(uri), Value::String(name), ..] => (
                uri.parse::<Uri>().map_err(|_| jsonrpc::Error::invalid_params("the first argument must be a URI"))?,
                name.clone(),
            ),
            _ => return Err(jsonrpc::Error::invalid_params("`gov.runTest` takes a document URI and a test name")),
        };
        let ran = {
            let state = self.lock();
            guarded(|| Ok(lens::run_test(&state, &uri, &name)))?
        };
        match ran {
            Ok(ran) => {
                let kind = if ran.passed { MessageType::INFO } else { MessageType::ERROR };
                self.client.show_message(kind, &ran.summary).await;
                Ok(Some(json!({ "passed": ran.passed, "summary": ran.summary, "result": ran.result })))
            }
            Err(message) => {
                self.client.show_message(MessageType::ERROR, &message).await;
                Err(jsonrpc::Error::invalid_params(message))
            }
        }
    }
}
