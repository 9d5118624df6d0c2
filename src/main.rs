//! The `attune` binary: parses the command line and calls into the library.
//! Exit status: 0 success, 1 failure, 2 bad usage.

use std::process::ExitCode;

use attune::cli;
use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: validation and sync allocate many
/// small objects (about 25% faster end to end, docs/PERFORMANCE.md), and it
/// returns freed memory to the system instead of keeping one arena per
/// thread (docs/DEPENDENCIES.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// attune: load, validate and register automation-pack workflows, and serve
/// them over a REST API and a web UI.
#[derive(Debug, Parser)]
#[command(name = "attune", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `attune` alone is `attune serve`
    #[command(flatten)]
    serve: cli::serve::ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the appliance (the default command)
    Serve(cli::serve::ServeArgs),
    /// Manage users while the server is stopped
    #[command(subcommand)]
    User(cli::user::UserCommand),
    /// Print an access token for scripts (while the server is stopped)
    Token(cli::token::TokenArgs),
    /// Replace the JWT secret kept in the database, so that every token
    /// issued before is refused (while the server is stopped)
    RotateJwtSecret(cli::secret::RotateArgs),
    /// Copy the database to a file (while the server is stopped; online:
    /// GET /api/v1/admin/backup)
    Backup(cli::backup::BackupArgs),
    /// Replace the database with a backup (while the server is stopped);
    /// the previous one is kept as attune.redb.bak
    Restore(cli::restore::RestoreArgs),
    /// Validate workflow files offline (no database, no server); exit 1 on errors
    Validate(cli::validate::ValidateArgs),
    /// Semantic diff of two workflow files or two pack folders, offline;
    /// exit 0 when nothing changed semantically, 1 when something did
    Diff(cli::diff::DiffArgs),
    /// Print the JSON Schema of the workflow format
    Schema {
        /// The schema of graph-only files (an action's workflow_file) instead
        #[arg(long)]
        graph: bool,
    },
    /// Pack archives: `attune pack build DIR -o FILE`
    #[command(subcommand)]
    Pack(cli::pack::PackCommand),
    /// Language server for editors (LSP over stdio): the validator as you type
    Lsp(cli::lsp::LspArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => cli::serve::run(cli.serve),
        Some(Command::Serve(args)) => cli::serve::run(args),
        Some(Command::User(cmd)) => cli::user::run(cmd),
        Some(Command::Token(args)) => cli::token::run(args),
        Some(Command::RotateJwtSecret(args)) => cli::secret::run(args),
        Some(Command::Backup(args)) => cli::backup::run(args),
        Some(Command::Restore(args)) => cli::restore::run(args),
        Some(Command::Validate(args)) => {
            return exit_status(cli::validate::run_validate(
                &args,
                &mut std::io::stdout().lock(),
            ));
        }
        Some(Command::Diff(args)) => {
            return exit_status(cli::diff::run_diff(&args, &mut std::io::stdout().lock()));
        }
        Some(Command::Pack(cmd)) => {
            return exit_status(cli::pack::run(&cmd, &mut std::io::stdout().lock()));
        }
        Some(Command::Lsp(args)) => {
            return exit_status(cli::lsp::run(&args));
        }
        Some(Command::Schema { graph }) => {
            let out = &mut std::io::stdout().lock();
            return exit_status(if graph {
                cli::schema::run_graph_schema(out)
            } else {
                cli::schema::run_schema(out)
            });
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Turns a command's exit status (or its error) into the process's.
fn exit_status(result: anyhow::Result<i32>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
