//! The API's shapes of what a sync or validation reports. `sync/` owns the
//! reports as it stores them in run records (plain serde types that know
//! nothing of OpenAPI); this module is the wire form the HTTP API answers
//! and documents, mapped field by field, so a change on either side is a
//! compile error here instead of a silent drift between the document and
//! the answers.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::RevisionPair;
use crate::sync::{
    FailedWorkflow, ReportDiagnostic, Snippet, SyncReport, SyncedWorkflow, Trigger, ValidateReport,
    WorkflowStatus,
};

/// The JSON shape of a [`ReportDiagnostic`] (the core's `Diagnostic` plus
/// its snippet and rule link), for the OpenAPI document: the answers carry
/// `ReportDiagnostic` itself, whose serde form this mirrors.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Diagnostic)]
pub struct DiagnosticSchema {
    /// `error` or `warning`.
    pub severity: String,
    /// Stable rule code, e.g. `unknown-task`.
    pub code: String,
    pub message: String,
    /// Workflow ref (`pack.name`).
    pub r#ref: Option<String>,
    /// File relative to `packs_base_dir`.
    pub file: Option<String>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Where in the document, e.g. `tasks[1].next[0].do[0]`.
    pub path: String,
    pub hint: Option<String>,
    pub snippet: Option<SnippetSchema>,
    /// The rule's entry in the rules reference served by the appliance,
    /// e.g. `/docs/rules#unknown-task`.
    pub help_uri: Option<String>,
}

/// Source lines around a diagnostic (the shape of [`Snippet`]).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Snippet)]
pub struct SnippetSchema {
    /// 1-based number of the first line in `lines`.
    pub start_line: u32,
    pub lines: Vec<String>,
}

impl From<Snippet> for SnippetSchema {
    fn from(s: Snippet) -> Self {
        SnippetSchema {
            start_line: s.start_line,
            lines: s.lines,
        }
    }
}

/// What started a sync or validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Trigger)]
#[serde(rename_all = "lowercase")]
pub enum TriggerView {
    /// A request to the sync or validate endpoint.
    #[default]
    Api,
    /// The sync that follows creating or updating a pack.
    Auto,
    /// A change in the pack's folder seen by watch mode.
    Watch,
    /// The sync of a pack archive just uploaded.
    Upload,
}

impl From<Trigger> for TriggerView {
    fn from(t: Trigger) -> Self {
        match t {
            Trigger::Api => TriggerView::Api,
            Trigger::Auto => TriggerView::Auto,
            Trigger::Watch => TriggerView::Watch,
            Trigger::Upload => TriggerView::Upload,
        }
    }
}

/// What happened to a registered workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = WorkflowStatus)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowStatusView {
    Created,
    Updated,
    Unchanged,
}

impl From<WorkflowStatus> for WorkflowStatusView {
    fn from(s: WorkflowStatus) -> Self {
        match s {
            WorkflowStatus::Created => WorkflowStatusView::Created,
            WorkflowStatus::Updated => WorkflowStatusView::Updated,
            WorkflowStatus::Unchanged => WorkflowStatusView::Unchanged,
        }
    }
}

/// The revisions a change went from and to (`from` is null for a
/// workflow's first revision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = RevisionPair)]
pub struct RevisionPairView {
    pub from: Option<u64>,
    pub to: u64,
}

impl From<RevisionPair> for RevisionPairView {
    fn from(p: RevisionPair) -> Self {
        RevisionPairView {
            from: p.from,
            to: p.to,
        }
    }
}

/// One registered workflow of a sync (the API document's fields plus
/// `status`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncedWorkflow)]
pub struct SyncedWorkflowView {
    pub ref_name: String,
    /// True when the workflow was created, false when it existed.
    pub created: bool,
    /// Stable id; null only for a workflow a dry run would create.
    pub workflow_def_id: Option<u64>,
    pub warnings: Vec<String>,
    pub status: WorkflowStatusView,
    /// The revisions this sync went from and to (diff:
    /// `/api/v1/workflows/{ref}/diff?from=…&to=…`); absent when the
    /// registered content did not change or revisions are off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionPairView>,
}

impl From<SyncedWorkflow> for SyncedWorkflowView {
    fn from(w: SyncedWorkflow) -> Self {
        SyncedWorkflowView {
            ref_name: w.ref_name,
            created: w.created,
            workflow_def_id: w.workflow_def_id,
            warnings: w.warnings,
            status: w.status.into(),
            revision: w.revision.map(Into::into),
        }
    }
}

/// A workflow file with errors: not registered.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FailedWorkflow)]
pub struct FailedWorkflowView {
    pub ref_name: String,
    /// Relative to `packs_base_dir`.
    pub file: String,
    /// Every error message.
    pub errors: Vec<String>,
    /// True when an earlier good version stays registered (flagged stale).
    pub stale: bool,
}

impl From<FailedWorkflow> for FailedWorkflowView {
    fn from(f: FailedWorkflow) -> Self {
        FailedWorkflowView {
            ref_name: f.ref_name,
            file: f.file,
            errors: f.errors,
            stale: f.stale,
        }
    }
}

/// The answer of a sync.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SyncReport)]
pub struct SyncReportView {
    pub pack_ref: String,
    /// Workflow files found.
    pub loaded_count: u64,
    /// Workflows registered and current after the sync (created, updated
    /// or unchanged).
    pub registered_count: u64,
    pub unchanged_count: u64,
    pub dry_run: bool,
    pub workflows: Vec<SyncedWorkflowView>,
    pub failed: Vec<FailedWorkflowView>,
    /// `"Validation failed for {ref}: {first error}"` per failed workflow,
    /// or the folder error.
    pub errors: Vec<String>,
    /// Registered refs whose file is gone.
    pub missing: Vec<String>,
    /// Refs deleted because of `prune`.
    pub pruned: Vec<String>,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<ReportDiagnostic>,
    /// Null for a dry run (nothing is written).
    pub run_id: Option<u64>,
    pub duration_ms: u64,
}

impl From<SyncReport> for SyncReportView {
    fn from(r: SyncReport) -> Self {
        SyncReportView {
            pack_ref: r.pack_ref,
            loaded_count: r.loaded_count,
            registered_count: r.registered_count,
            unchanged_count: r.unchanged_count,
            dry_run: r.dry_run,
            workflows: r.workflows.into_iter().map(Into::into).collect(),
            failed: r.failed.into_iter().map(Into::into).collect(),
            errors: r.errors,
            missing: r.missing,
            pruned: r.pruned,
            diagnostics: r.diagnostics,
            run_id: r.run_id,
            duration_ms: r.duration_ms,
        }
    }
}

/// The answer of a validation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ValidateReport)]
pub struct ValidateReportView {
    pub pack_ref: String,
    /// Workflow files found, unparsable ones included.
    pub validated_count: u64,
    /// Workflows with at least one error.
    pub error_count: u64,
    /// ref → every error message.
    pub errors: std::collections::BTreeMap<String, Vec<String>>,
    /// ref → every warning message.
    pub warnings: std::collections::BTreeMap<String, Vec<String>>,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<ReportDiagnostic>,
    /// Set when the folder could not be listed (the API document's message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
    pub run_id: Option<u64>,
    pub duration_ms: u64,
}

impl From<ValidateReport> for ValidateReportView {
    fn from(r: ValidateReport) -> Self {
        ValidateReportView {
            pack_ref: r.pack_ref,
            validated_count: r.validated_count,
            error_count: r.error_count,
            errors: r.errors,
            warnings: r.warnings,
            diagnostics: r.diagnostics,
            load_error: r.load_error,
            run_id: r.run_id,
            duration_ms: r.duration_ms,
        }
    }
}
