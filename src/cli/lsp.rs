//! `attune lsp`: the language server on stdin/stdout (crates/attune-lsp).
//! Editor setups: docs/EDITORS.md.

/// Arguments of `attune lsp`.
#[derive(clap::Args, Debug, Clone)]
pub struct LspArgs {
    /// Accepted for clients that pass it; stdio is the only transport
    #[arg(long)]
    pub stdio: bool,
    /// Milliseconds to wait after an edit before checking (initializationOptions.debounceMs overrides)
    #[arg(long, default_value_t = 150, value_name = "MS")]
    pub debounce_ms: u64,
    /// Where the rules reference is served (an appliance's `/docs/rules`);
    /// each diagnostic's code links to `URL#<code>` (initializationOptions.rulesUrl overrides)
    #[arg(long, default_value = crate::cli::validate::DEFAULT_RULES_URL, value_name = "URL")]
    pub rules_url: String,
    /// Largest workflow document checked, in bytes
    #[arg(long, default_value_t = 1_048_576, value_name = "BYTES")]
    pub max_file_bytes: u64,
}

/// Serve until the client sends `exit` or closes stdin; returns the exit status.
pub fn run(args: &LspArgs) -> anyhow::Result<i32> {
    let opts = attune_lsp::Options {
        debounce: std::time::Duration::from_millis(args.debounce_ms.min(10_000)),
        max_file_bytes: args.max_file_bytes,
        rules_url: args.rules_url.trim_end_matches('#').to_string(),
    };
    let code = attune_lsp::run(std::io::stdin(), std::io::stdout(), opts)?;
    Ok(code)
}
