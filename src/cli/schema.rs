//! `attune schema`: print the JSON Schema of the workflow format (or, with
//! `--graph`, of the graph-only files of action-linked workflows).

use std::io::Write;

/// Print the workflow JSON Schema (draft 2020-12), pretty, to `out`.
pub fn run_schema(out: &mut dyn Write) -> anyhow::Result<i32> {
    let s = serde_json::to_string_pretty(&crate::workflow::schema::workflow_schema())?;
    writeln!(out, "{s}")?;
    Ok(0)
}

/// Print the JSON Schema of graph-only files (action-linked workflows).
pub fn run_graph_schema(out: &mut dyn Write) -> anyhow::Result<i32> {
    let s = serde_json::to_string_pretty(&crate::workflow::schema::graph_schema())?;
    writeln!(out, "{s}")?;
    Ok(0)
}
