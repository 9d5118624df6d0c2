//! The main loop: initialize, open documents (the editor's text wins over
//! the disk's), the debounce, the checker thread, and the request handlers.
//!
//! Checks: an edit schedules its document `debounce` later; when due, the
//! document's text and the current catalog go to the checker thread as a
//! job with a generation number. The checker drops a job whose document
//! was edited (or closed) since (a newer generation exists), both before it
//! starts and before it publishes, so a new edit cancels a check in flight:
//! its result is never published. Jobs queued for one document collapse
//! to the newest.

use crate::analysis::Analysis;
use crate::diag::{self, DocContext};
use crate::features::{self, LinkView, View};
use crate::text::LineIndex;
use crate::transport::{self, Incoming, Outgoing, codes};
use crate::workspace::{Catalog, FileRole, Unit, Workspace, action_doc};
use attune_workflow::catalog::ActionKind;
use attune_workflow::{Code, Diagnostic};
use lsp_server::{Message, Notification, Request, RequestId, Response, ResponseError};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    CompletionOptions, CompletionParams, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DocumentSymbolParams,
    GotoDefinitionParams, HoverParams, HoverProviderCapability, InitializeParams, OneOf,
    PublishDiagnosticsParams, ReferenceParams, RenameOptions, RenameParams, ServerCapabilities,
    ServerInfo, TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, Url,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the server behaves; `initializationOptions` may override each.
#[derive(Debug, Clone)]
pub struct Options {
    /// Wait after an edit before checking (`debounceMs`).
    pub debounce: Duration,
    /// Base of the `codeDescription` links, `{rules_url}#{code}` (`rulesUrl`):
    /// an appliance's `/docs/rules`, or any copy of docs/RULES.md.
    pub rules_url: String,
    /// Largest document or file checked (`maxFileBytes`), as `attune validate`.
    pub max_file_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            debounce: Duration::from_millis(150),
            // As `attune validate`: an appliance on its default address.
            rules_url: format!(
                "http://127.0.0.1:8080{}",
                attune_workflow::rules::RULES_PATH
            ),
            max_file_bytes: 1_048_576,
        }
    }
}

struct Doc {
    text: Arc<str>,
    li: Arc<LineIndex>,
    version: i32,
    role: Option<FileRole>,
    path: Option<PathBuf>,
    analysis: Option<Arc<Analysis>>,
}

/// Which diagnostics of a check a document receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    All,
    /// An action-linked workflow's graph file: those not in the action file.
    Graph,
    /// Its action file: those whose `file` is the action file.
    Action,
}

/// An open document a check publishes to.
struct Target {
    uri: Url,
    version: i32,
    part: Part,
    text: Arc<str>,
    li: Arc<LineIndex>,
}

/// What a check computes.
enum Work {
    /// A workflow file on its own.
    Check { text: Arc<str>, ctx: DocContext },
    /// An action-linked workflow: the graph file and its action file.
    Linked {
        graph: Arc<str>,
        action: Arc<str>,
        ctx: DocContext,
    },
    /// Nothing to check: these diagnostics.
    Fixed(Vec<Diagnostic>),
}

struct Job {
    generation: u64,
    targets: Vec<Target>,
    work: Work,
    catalog: Arc<Catalog>,
    max_bytes: u64,
    rules_url: Arc<str>,
}

type Latest = Arc<Mutex<HashMap<Url, u64>>>;

/// The output stream, shared by the main loop and the checker; a frame is
/// written whole under the lock (no writer thread between a result and the
/// pipe).
#[derive(Clone)]
struct Out(Arc<Mutex<Box<dyn Write + Send>>>);

impl Out {
    fn new(w: impl Write + Send + 'static) -> Out {
        Out(Arc::new(Mutex::new(Box::new(io::BufWriter::new(w)))))
    }
    fn send(&self, o: Outgoing) -> io::Result<()> {
        let mut w = self
            .0
            .lock()
            .map_err(|_| io::Error::other("the output lock is poisoned"))?;
        transport::write_frame(&mut *w, o)
    }
}

struct Server {
    out: Out,
    opts: Options,
    ws: Workspace,
    docs: HashMap<Url, Doc>,
    /// Checks due, by key (the graph file for a linked pair): when, and
    /// the document whose edit asked for it (its unit names the check).
    pending: HashMap<Url, (Instant, Url)>,
    generation: u64,
    latest: Latest,
    jobs: Sender<Job>,
    shutdown: bool,
    watch_dynamic: bool,
    next_id: i32,
}

/// Serve LSP on `input`/`output` until `exit` or the end of the input.
/// Returns the process exit status: 0 after `shutdown` + `exit`, 1 otherwise.
pub fn run(
    input: impl Read + Send + 'static,
    output: impl Write + Send + 'static,
    opts: Options,
) -> io::Result<i32> {
    let (in_tx, in_rx) = mpsc::channel::<Incoming>();
    let out = Out::new(output);
    std::thread::Builder::new()
        .name("lsp-reader".into())
        .spawn(move || {
            let mut r = BufReader::with_capacity(1 << 16, input);
            while let Ok(Some(f)) = transport::read_frame(&mut r) {
                if in_tx.send(f).is_err() {
                    break;
                }
            }
        })?;
    let latest: Latest = Arc::default();
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let checker_thread = {
        let out = out.clone();
        let latest = latest.clone();
        std::thread::Builder::new()
            .name("lsp-checker".into())
            .spawn(move || checker(job_rx, out, latest))?
    };
    let mut s = Server {
        out,
        opts,
        ws: Workspace::default(),
        docs: HashMap::new(),
        pending: HashMap::new(),
        generation: 0,
        latest,
        jobs: job_tx,
        shutdown: false,
        watch_dynamic: false,
        next_id: 1,
    };
    let code = s.main_loop(&in_rx);
    // Closing the job queue ends the checker after its current batch.
    drop(s);
    let _ = checker_thread.join();
    Ok(code)
}

fn checker(rx: Receiver<Job>, out: Out, latest: Latest) {
    let current = |uri: &Url, generation: u64| {
        latest
            .lock()
            .map(|m| m.get(uri) == Some(&generation))
            .unwrap_or(false)
    };
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(j) = rx.try_recv() {
            batch.push(j);
        }
        for job in batch {
            if !job.targets.iter().any(|t| current(&t.uri, job.generation)) {
                continue;
            }
            let (max, rules) = (job.max_bytes, job.rules_url.clone());
            let r = catch_unwind(AssertUnwindSafe(|| {
                let cat = job.catalog.as_ref();
                let diags = match &job.work {
                    Work::Check { text, ctx } => diag::check(text, ctx, cat, max),
                    Work::Linked { graph, action, ctx } => {
                        diag::check_linked(graph, action, ctx, cat, max)
                    }
                    Work::Fixed(ds) => ds.clone(),
                };
                job.targets
                    .iter()
                    .map(|t| {
                        let mine: Vec<Diagnostic> = diags
                            .iter()
                            .filter(|d| match t.part {
                                Part::All => true,
                                Part::Graph => !diag::in_action_file(d),
                                Part::Action => diag::in_action_file(d),
                            })
                            .cloned()
                            .collect();
                        to_publish(&mine, t, max, &rules)
                    })
                    .collect::<Vec<_>>()
            }));
            let Ok(lists) = r else { continue };
            for (t, diagnostics) in job.targets.iter().zip(lists) {
                if !current(&t.uri, job.generation) {
                    continue;
                }
                let params = PublishDiagnosticsParams {
                    uri: t.uri.clone(),
                    diagnostics,
                    version: Some(t.version),
                };
                let n = Notification::new("textDocument/publishDiagnostics".into(), params);
                if out
                    .send(Outgoing::Message(Message::Notification(n)))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// The LSP diagnostics of one target document.
fn to_publish(
    diags: &[Diagnostic],
    t: &Target,
    max: u64,
    rules: &str,
) -> Vec<lsp_types::Diagnostic> {
    let analysis = (!diags.is_empty() && t.text.len() as u64 <= max).then(|| {
        let dup = diags.iter().any(|d| d.code == Code::DuplicateTask);
        Analysis::for_diagnostics(&t.text, dup)
    });
    diag::to_lsp(diags, &t.text, &t.li, analysis.as_ref(), &t.uri, rules)
}

fn err(code: i32, msg: impl Into<String>) -> ResponseError {
    ResponseError {
        code,
        message: msg.into(),
        data: None,
    }
}

fn params<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ResponseError> {
    serde_json::from_value(v)
        .map_err(|e| err(codes::INVALID_PARAMS, format!("invalid params: {e}")))
}

impl Server {
    fn send(&self, m: Message) {
        let _ = self.out.send(Outgoing::Message(m));
    }

    fn respond(&self, id: RequestId, r: Result<Value, ResponseError>) {
        let resp = Response {
            id,
            response_result: r,
        };
        self.send(Message::Response(resp));
    }

    fn invalid(&self, id: Option<RequestId>, code: i32, message: String) {
        match id {
            Some(id) => self.respond(id, Err(err(code, message))),
            None => {
                let _ = self.out.send(Outgoing::NullIdError { code, message });
            }
        }
    }

    fn main_loop(&mut self, rx: &Receiver<Incoming>) -> i32 {
        let mut initialized = false;
        loop {
            let next_due = self.pending.values().map(|(t, _)| *t).min();
            let msg = match next_due {
                Some(due) => {
                    let now = Instant::now();
                    if due <= now {
                        self.run_due();
                        continue;
                    }
                    match rx.recv_timeout(due - now) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => {
                            self.run_due();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return 1,
                    }
                }
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return 1,
                },
            };
            let m = match msg {
                Incoming::Invalid { id, code, message } => {
                    self.invalid(id, code, message);
                    continue;
                }
                Incoming::Message(m) => m,
            };
            match m {
                Message::Request(req) => {
                    if !initialized {
                        if req.method == "initialize" {
                            let id = req.id.clone();
                            let r = self.initialize(req.params);
                            initialized = r.is_ok();
                            self.respond(id, r);
                        } else {
                            self.respond(
                                req.id,
                                Err(err(
                                    codes::SERVER_NOT_INITIALIZED,
                                    "the server is not initialized; send initialize first",
                                )),
                            );
                        }
                        continue;
                    }
                    if self.shutdown {
                        self.respond(
                            req.id,
                            Err(err(
                                codes::INVALID_REQUEST,
                                "the server is shutting down; send exit",
                            )),
                        );
                        continue;
                    }
                    let id = req.id.clone();
                    let method = req.method.clone();
                    let r = catch_unwind(AssertUnwindSafe(|| self.request(req)));
                    match r {
                        Ok(r) => self.respond(id, r),
                        Err(_) => self.respond(
                            id,
                            Err(err(
                                codes::INTERNAL_ERROR,
                                format!(
                                    "internal error while answering {method}; the server goes on"
                                ),
                            )),
                        ),
                    }
                }
                Message::Notification(n) => {
                    if n.method == "exit" {
                        return if self.shutdown { 0 } else { 1 };
                    }
                    if !initialized {
                        continue;
                    }
                    let _ = catch_unwind(AssertUnwindSafe(|| self.notification(n)));
                }
                Message::Response(_) => {}
            }
        }
    }

    fn initialize(&mut self, p: Value) -> Result<Value, ResponseError> {
        let raw = p.clone();
        let p: InitializeParams = params(p)?;
        if let Some(o) = raw.get("initializationOptions").filter(|o| o.is_object()) {
            if let Some(ms) = o.get("debounceMs").and_then(Value::as_u64) {
                self.opts.debounce = Duration::from_millis(ms.min(10_000));
            }
            if let Some(u) = o.get("rulesUrl").and_then(Value::as_str)
                && Url::parse(u).is_ok()
            {
                self.opts.rules_url = u.trim_end_matches('#').to_string();
            }
            if let Some(b) = o.get("maxFileBytes").and_then(Value::as_u64) {
                self.opts.max_file_bytes = b.clamp(1, transport::MAX_MESSAGE_BYTES as u64);
            }
        }
        let mut roots: Vec<PathBuf> = p
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| f.uri.to_file_path().ok())
            .collect();
        #[allow(deprecated)]
        if roots.is_empty() {
            if let Some(u) = &p.root_uri
                && let Ok(path) = u.to_file_path()
            {
                roots.push(path);
            } else if let Some(r) = &p.root_path {
                roots.push(PathBuf::from(r));
            }
        }
        self.ws = Workspace::new(&roots, self.opts.max_file_bytes);
        self.watch_dynamic = p
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        let caps = ServerCapabilities {
            text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![".".into(), " ".into(), "[".into(), "{".into()]),
                ..CompletionOptions::default()
            }),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            document_symbol_provider: Some(OneOf::Left(true)),
            rename_provider: Some(OneOf::Right(RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![
                    CodeActionKind::QUICKFIX,
                    CodeActionKind::REFACTOR_REWRITE,
                ]),
                ..CodeActionOptions::default()
            })),
            ..ServerCapabilities::default()
        };
        Ok(json!({
            "capabilities": caps,
            "serverInfo": ServerInfo { name: "attune".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
        }))
    }

    fn log(&self, msg: String) {
        let n = Notification::new(
            "window/logMessage".into(),
            json!({"type": 3, "message": msg}),
        );
        self.send(Message::Notification(n));
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "initialized" => {
                self.log(format!(
                    "attune lsp: {} packs, {} actions and workflows in the catalog, {} action-linked",
                    self.ws.packs.len(),
                    self.ws.catalog.len(),
                    self.ws.links.len()
                ));
                if self.watch_dynamic {
                    let id = self.next_id;
                    self.next_id += 1;
                    let req = Request::new(
                        RequestId::from(format!("attune-watch-{id}")),
                        "client/registerCapability".into(),
                        json!({"registrations": [{
                            "id": "attune-watch-yaml",
                            "method": "workspace/didChangeWatchedFiles",
                            "registerOptions": {"watchers": [{"globPattern": "**/*.{yaml,yml}"}]}
                        }]}),
                    );
                    self.send(Message::Request(req));
                }
            }
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let d = p.text_document;
                self.open(d.uri, d.text, d.version);
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                // Full sync: the last change holds the whole text.
                let Some(c) = p.content_changes.into_iter().last() else {
                    return;
                };
                if c.range.is_some() && !self.docs.contains_key(&p.text_document.uri) {
                    return;
                }
                self.change(p.text_document.uri, c.text, p.text_document.version);
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                self.close(p.text_document.uri);
            }
            "workspace/didChangeWatchedFiles" => {
                let Ok(p) = serde_json::from_value::<DidChangeWatchedFilesParams>(n.params) else {
                    return;
                };
                let mut changed = false;
                let mut touched = Vec::new();
                for c in p.changes {
                    if self.docs.contains_key(&c.uri) {
                        continue;
                    }
                    if let Ok(path) = c.uri.to_file_path() {
                        changed |= self.ws.file_changed(&path, None);
                        touched.push(c.uri);
                    }
                }
                if changed {
                    self.recheck_workflows();
                } else {
                    // A graph or action file changed on disk: the open
                    // other half of its pair checks again.
                    for u in touched {
                        if let Some(Unit::Linked { graph, action, .. }) = self.unit_of(&u) {
                            for p in [graph, action] {
                                if let Some(o) = self.uri_for(&p)
                                    && self.docs.contains_key(&o)
                                {
                                    self.schedule(o);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, uri: Url, text: String, version: i32) {
        let path = uri.to_file_path().ok();
        let role = path
            .as_deref()
            .and_then(|p| self.ws.classify(p))
            .map(|(_, r)| r);
        let li = Arc::new(LineIndex::new(&text));
        self.docs.insert(
            uri.clone(),
            Doc {
                text: Arc::from(text),
                li,
                version,
                role,
                path,
                analysis: None,
            },
        );
        self.after_edit(&uri);
    }

    fn change(&mut self, uri: Url, text: String, version: i32) {
        let Some(d) = self.docs.get_mut(&uri) else {
            // A change for a document never opened: treat it as opened.
            self.open(uri, text, version);
            return;
        };
        d.li = Arc::new(LineIndex::new(&text));
        d.text = Arc::from(text);
        d.version = version;
        d.analysis = None;
        self.after_edit(&uri);
    }

    fn after_edit(&mut self, uri: &Url) {
        let Some(d) = self.docs.get(uri) else { return };
        match d.role {
            Some(FileRole::Workflow) => {
                let path = d.path.clone();
                if let Some(p) = path {
                    let text = d.text.clone();
                    if self.ws.file_changed(&p, Some(&text)) {
                        self.recheck_workflows();
                        return;
                    }
                }
                self.schedule(uri.clone());
            }
            Some(FileRole::Action) => {
                let (p, text) = (d.path.clone(), d.text.clone());
                if let Some(p) = p
                    && self.ws.file_changed(&p, Some(&text))
                {
                    self.recheck_workflows();
                    return;
                }
                // Its own problems, and its graph file's check.
                self.schedule(uri.clone());
            }
            None => {}
        }
    }

    fn close(&mut self, uri: Url) {
        let unit = self.unit_of(&uri);
        let Some(d) = self.docs.remove(&uri) else {
            return;
        };
        self.pending.remove(&uri);
        if let Ok(mut m) = self.latest.lock() {
            m.remove(&uri);
        }
        if d.role == Some(FileRole::Action)
            && let Some(p) = &d.path
            && self.ws.file_changed(p, None)
        {
            self.recheck_workflows();
        }
        // The other half of a pair, still open, checks again (with the
        // disk's text of the closed one).
        if let Some(Unit::Linked { graph, action, .. }) = unit {
            for p in [graph, action] {
                if let Some(o) = self.uri_for(&p)
                    && o != uri
                    && self.docs.contains_key(&o)
                {
                    self.schedule(o);
                }
            }
        }
        if d.role.is_some() {
            let params = PublishDiagnosticsParams {
                uri,
                diagnostics: Vec::new(),
                version: None,
            };
            self.send(Message::Notification(Notification::new(
                "textDocument/publishDiagnostics".into(),
                params,
            )));
        }
    }

    /// The URI of a file: the open document's own (as the editor spelled
    /// it), else the file URL of the path.
    fn uri_for(&self, path: &std::path::Path) -> Option<Url> {
        self.docs
            .iter()
            .find(|(_, d)| d.path.as_deref() == Some(path))
            .map(|(u, _)| u.clone())
            .or_else(|| Url::from_file_path(path).ok())
    }

    /// How the file of `uri` is checked now.
    fn unit_of(&mut self, uri: &Url) -> Option<Unit> {
        let path = match self.docs.get(uri) {
            Some(d) => d.path.clone()?,
            None => uri.to_file_path().ok()?,
        };
        self.ws.unit_of(&path)
    }

    /// Check `uri` after the debounce: a linked graph or action file checks
    /// its pair (keyed by the graph file), anything else itself. Every
    /// document the check publishes to gets a new generation at once, so a
    /// check in flight for them is never published.
    fn schedule(&mut self, uri: Url) {
        self.generation += 1;
        let mut bump = vec![uri.clone()];
        let origin = uri.clone();
        let mut key = uri;
        if let Some(Unit::Linked { graph, action, .. }) = self.unit_of(&key) {
            bump.extend(self.uri_for(&action));
            if let Some(g) = self.uri_for(&graph) {
                bump.push(g.clone());
                key = g;
            }
        }
        if let Ok(mut m) = self.latest.lock() {
            for u in bump {
                m.insert(u, self.generation);
            }
        }
        self.pending
            .insert(key, (Instant::now() + self.opts.debounce, origin));
    }

    fn recheck_workflows(&mut self) {
        let uris: Vec<Url> = self
            .docs
            .iter()
            .filter(|(_, d)| d.role.is_some())
            .map(|(u, _)| u.clone())
            .collect();
        for u in uris {
            self.schedule(u);
        }
    }

    /// An open document as a check's target.
    fn target(&self, uri: &Url, part: Part) -> Option<Target> {
        let d = self.docs.get(uri)?;
        Some(Target {
            uri: uri.clone(),
            version: d.version,
            part,
            text: d.text.clone(),
            li: d.li.clone(),
        })
    }

    /// The text of a file: the editor's when open, else the disk's.
    fn text_of(&self, path: &std::path::Path) -> Result<Arc<str>, String> {
        if let Some(u) = self.uri_for(path)
            && let Some(d) = self.docs.get(&u)
        {
            return Ok(d.text.clone());
        }
        crate::disk::read_text(path, self.opts.max_file_bytes).map(Arc::from)
    }

    /// The check `origin` asks for as it stands now, with the open
    /// documents it publishes to.
    fn job_for(&mut self, key: &Url) -> Option<(Work, Vec<Target>)> {
        match self.unit_of(key)? {
            Unit::Standalone { pack_ref, name } => {
                let t = self.target(key, Part::All)?;
                let text = t.text.clone();
                Some((
                    Work::Check {
                        text,
                        ctx: DocContext { pack_ref, name },
                    },
                    vec![t],
                ))
            }
            Unit::Fixed(ds) => Some((Work::Fixed(ds), vec![self.target(key, Part::All)?])),
            Unit::Linked {
                pack_ref,
                name,
                graph,
                action,
            } => {
                let gu = self.uri_for(&graph)?;
                let au = self.uri_for(&action)?;
                let targets: Vec<Target> = if gu == au {
                    // An action file that names itself as its graph.
                    self.target(&gu, Part::All).into_iter().collect()
                } else {
                    [(&gu, Part::Graph), (&au, Part::Action)]
                        .into_iter()
                        .filter_map(|(u, part)| self.target(u, part))
                        .collect()
                };
                if targets.is_empty() {
                    return None;
                }
                let unreadable = |what: &str, e: String| {
                    Diagnostic::new(
                        Code::FileUnreadable,
                        format!("cannot read {what}: {e}"),
                        1,
                        1,
                    )
                };
                let action_text = match self.text_of(&action) {
                    Ok(t) => t,
                    Err(e) => {
                        let rel = action.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        let d = unreadable(&format!("the action file actions/{rel}"), e);
                        return Some((Work::Fixed(vec![d]), targets));
                    }
                };
                let graph_text = match self.text_of(&graph) {
                    Ok(t) => t,
                    // Only the action file is open (an open graph file is
                    // always readable): `attune validate` reports this on
                    // the graph file; here it shows at `workflow_file`.
                    Err(e) => {
                        let (line, column) = self
                            .ws
                            .links
                            .get(&action)
                            .map(|l| (l.line, l.column))
                            .unwrap_or((1, 1));
                        let rel = self
                            .ws
                            .links
                            .get(&action)
                            .and_then(|l| l.rel.clone())
                            .unwrap_or_default();
                        let mut d = unreadable(&format!("the graph file {rel}"), e);
                        (d.line, d.column) = (line, column);
                        d.path = "workflow_file".to_string();
                        d.file = Some(diag::ACTION_FILE.to_string());
                        return Some((Work::Fixed(vec![d]), targets));
                    }
                };
                Some((
                    Work::Linked {
                        graph: graph_text,
                        action: action_text,
                        ctx: DocContext { pack_ref, name },
                    },
                    targets,
                ))
            }
        }
    }

    fn run_due(&mut self) {
        let now = Instant::now();
        let due: Vec<(Url, Url)> = self
            .pending
            .iter()
            .filter(|(_, (t, _))| *t <= now)
            .map(|(u, (_, o))| (u.clone(), o.clone()))
            .collect();
        for (key, origin) in due {
            self.pending.remove(&key);
            let Some((work, targets)) = self.job_for(&origin) else {
                continue;
            };
            // The documents published to carry this check's generation
            // (one opened since the edit joins it).
            let generation = self
                .latest
                .lock()
                .ok()
                .and_then(|m| m.get(&key).copied())
                .unwrap_or(0);
            if let Ok(mut m) = self.latest.lock() {
                for t in &targets {
                    let g = m.entry(t.uri.clone()).or_insert(generation);
                    *g = (*g).max(generation);
                }
            }
            let _ = self.jobs.send(Job {
                generation,
                targets,
                work,
                catalog: self.ws.catalog.clone(),
                max_bytes: self.opts.max_file_bytes,
                rules_url: Arc::from(self.opts.rules_url.as_str()),
            });
        }
    }

    fn analysis(&mut self, uri: &Url) -> Option<Arc<Analysis>> {
        let max = self.opts.max_file_bytes;
        let d = self.docs.get_mut(uri)?;
        if d.analysis.is_none() {
            let a = if d.text.len() as u64 <= max {
                Analysis::new(&d.text)
            } else {
                Analysis::default()
            };
            d.analysis = Some(Arc::new(a));
        }
        d.analysis.clone()
    }

    fn request(&mut self, req: Request) -> Result<Value, ResponseError> {
        let method = req.method.as_str();
        if method == "shutdown" {
            self.shutdown = true;
            return Ok(Value::Null);
        }
        let uri = doc_uri(method, &req.params);
        let known = matches!(
            method,
            "textDocument/completion"
                | "textDocument/hover"
                | "textDocument/definition"
                | "textDocument/references"
                | "textDocument/documentSymbol"
                | "textDocument/prepareRename"
                | "textDocument/rename"
                | "textDocument/codeAction"
        );
        if !known {
            return Err(err(
                codes::METHOD_NOT_FOUND,
                format!("method '{method}' is not supported by attune lsp"),
            ));
        }
        let Some(uri) = uri else {
            return Err(err(
                codes::INVALID_PARAMS,
                "invalid params: textDocument.uri is missing",
            ));
        };
        let Some(analysis) = self.analysis(&uri) else {
            // Not an open document: nothing to say about it.
            return Ok(Value::Null);
        };
        // An action file of a linked pair answers code actions only (the
        // fixes of its diagnostics); its graph file's text is kept here.
        let mut graph_of_action: Option<Arc<str>> = None;
        let (ctx, link) = match self.unit_of(&uri) {
            Some(Unit::Standalone { pack_ref, name }) => (DocContext { pack_ref, name }, None),
            Some(Unit::Linked {
                pack_ref,
                name,
                graph,
                action,
            }) if method == "textDocument/codeAction"
                && graph != action
                && self.docs.get(&uri).and_then(|d| d.path.as_deref()) == Some(&action) =>
            {
                let Ok(g) = self.text_of(&graph) else {
                    return Ok(Value::Null);
                };
                graph_of_action = Some(g);
                (DocContext { pack_ref, name }, None)
            }
            Some(Unit::Linked {
                pack_ref,
                name,
                graph,
                action,
            }) if self.docs.get(&uri).and_then(|d| d.path.as_deref()) == Some(&graph) => {
                let Ok(text) = self.text_of(&action) else {
                    return Ok(Value::Null);
                };
                let stem = action
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                let doc = action_doc(
                    &text,
                    stem,
                    &pack_ref,
                    Some(action.clone()),
                    ActionKind::Action,
                );
                let link = self.uri_for(&action).map(|uri| LinkView {
                    uri,
                    li: LineIndex::new(&text),
                    text,
                    doc,
                });
                (DocContext { pack_ref, name }, link)
            }
            _ => return Ok(Value::Null),
        };
        let Some(d) = self.docs.get(&uri) else {
            return Ok(Value::Null);
        };
        let catalog = self.ws.catalog.clone();
        let text = d.text.clone();
        let li = d.li.clone();
        let v = View {
            uri: &uri,
            text: &text,
            li: &li,
            analysis: &analysis,
            catalog: &catalog,
            ctx: &ctx,
            link: link.as_ref(),
        };
        let off_of = |p: &TextDocumentPositionParams| li.offset(&text, p.position);
        let to = |x: Result<Value, serde_json::Error>| {
            x.map_err(|e| {
                err(
                    codes::INTERNAL_ERROR,
                    format!("cannot encode the answer: {e}"),
                )
            })
        };
        match method {
            "textDocument/completion" => {
                let p: CompletionParams = params(req.params)?;
                to(serde_json::to_value(features::completion(
                    &v,
                    p.text_document_position.position,
                )))
            }
            "textDocument/hover" => {
                let p: HoverParams = params(req.params)?;
                to(serde_json::to_value(features::hover(
                    &v,
                    off_of(&p.text_document_position_params),
                )))
            }
            "textDocument/definition" => {
                let p: GotoDefinitionParams = params(req.params)?;
                to(serde_json::to_value(features::definition(
                    &v,
                    off_of(&p.text_document_position_params),
                )))
            }
            "textDocument/references" => {
                let p: ReferenceParams = params(req.params)?;
                to(serde_json::to_value(features::references(
                    &v,
                    off_of(&p.text_document_position),
                    p.context.include_declaration,
                )))
            }
            "textDocument/documentSymbol" => {
                let _p: DocumentSymbolParams = params(req.params)?;
                to(serde_json::to_value(features::symbols(&v)))
            }
            "textDocument/prepareRename" => {
                let p: TextDocumentPositionParams = params(req.params)?;
                to(serde_json::to_value(features::prepare_rename(
                    &v,
                    off_of(&p),
                )))
            }
            "textDocument/rename" => {
                let p: RenameParams = params(req.params)?;
                let off = off_of(&p.text_document_position);
                match features::rename(&v, off, &p.new_name) {
                    Ok(e) => to(serde_json::to_value(e)),
                    Err(m) => Err(err(codes::INVALID_PARAMS, m)),
                }
            }
            "textDocument/codeAction" => {
                let p: CodeActionParams = params(req.params)?;
                let max = self.opts.max_file_bytes;
                let diags = match (&link, &graph_of_action) {
                    // The graph file's own: fixes in the action file are
                    // offered there.
                    (Some(l), _) => diag::check_linked(&text, &l.text, &ctx, catalog.as_ref(), max)
                        .into_iter()
                        .filter(|d| !diag::in_action_file(d))
                        .collect(),
                    (None, Some(g)) => diag::check_linked(g, &text, &ctx, catalog.as_ref(), max)
                        .into_iter()
                        .filter(diag::in_action_file)
                        .collect(),
                    (None, None) => diag::check(&text, &ctx, catalog.as_ref(), max),
                };
                to(serde_json::to_value(features::code_actions(
                    &v,
                    p.range,
                    &diags,
                    &self.opts.rules_url,
                )))
            }
            _ => Err(err(
                codes::METHOD_NOT_FOUND,
                format!("method '{method}' is not supported"),
            )),
        }
    }
}

fn doc_uri(_method: &str, p: &Value) -> Option<Url> {
    let s = p.get("textDocument")?.get("uri")?.as_str()?;
    Url::parse(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct SharedBuf(Arc<Mutex<Vec<u8>>>);

    impl Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn job(uri: &Url, generation: u64, version: i32, text: &str) -> Job {
        Job {
            generation,
            targets: vec![Target {
                uri: uri.clone(),
                version,
                part: Part::All,
                text: Arc::from(text),
                li: Arc::new(LineIndex::new(text)),
            }],
            work: Work::Check {
                text: Arc::from(text),
                ctx: DocContext {
                    pack_ref: "p".into(),
                    name: "w".into(),
                },
            },
            catalog: Arc::new(Catalog::default()),
            max_bytes: 1 << 20,
            rules_url: Arc::from("http://x/docs/rules"),
        }
    }

    #[test]
    fn a_superseded_check_is_never_published() {
        let uri = Url::parse("file:///p/workflows/w.yaml").unwrap();
        let other = Url::parse("file:///p/workflows/v.yaml").unwrap();
        let latest: Latest = Arc::default();
        latest.lock().unwrap().insert(uri.clone(), 2);
        latest.lock().unwrap().insert(other.clone(), 7);
        let (jtx, jrx) = mpsc::channel();
        let buf = SharedBuf::default();
        let otx = Out::new(buf.clone());
        // Generation 1 was superseded by an edit (generation 2) before it ran.
        jtx.send(job(&uri, 1, 1, "tasks: []\n")).unwrap();
        jtx.send(job(&uri, 2, 2, "version: 1\n")).unwrap();
        jtx.send(job(&other, 6, 3, "x: [\n")).unwrap();
        drop(jtx);
        checker(jrx, otx, latest);
        let bytes = buf.0.lock().unwrap().clone();
        let mut r = BufReader::new(&bytes[..]);
        let frames = std::iter::from_fn(|| transport::read_frame(&mut r).ok().flatten());
        let published: Vec<(String, Option<i32>)> = frames
            .filter_map(|o| match o {
                Incoming::Message(Message::Notification(n)) => {
                    let p: PublishDiagnosticsParams = serde_json::from_value(n.params).ok()?;
                    Some((p.uri.to_string(), p.version))
                }
                _ => None,
            })
            .collect();
        assert_eq!(published, [(uri.to_string(), Some(2))]);
    }
}
