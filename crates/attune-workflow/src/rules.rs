//! The rules reference: for every [`Code`], why the rule matters and how to
//! fix what it reports. `docs/RULES.md` and the appliance's `/docs/rules`
//! page are generated from these texts together with the data-driven cases
//! under `tests/data/workflows/` (`<code>-fail.yaml`, `<code>-ok.yaml`), by
//! the test `the_rules_reference_is_generated_from_the_cases`, so the
//! reference cannot drift from what the validator does.
//!
//! The match is exhaustive: a new code does not compile until it is
//! explained here.

use crate::diagnostic::Code;

/// Where the appliance serves the rules reference; each rule is the anchor
/// named by its code (`/docs/rules#unknown-task`).
pub const RULES_PATH: &str = "/docs/rules";

/// The link to one rule's entry on the appliance, e.g.
/// `/docs/rules#unknown-task`.
pub fn rule_path(code: Code) -> String {
    format!("{RULES_PATH}#{}", code.as_str())
}

/// The explanation of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDoc {
    /// Why the problem matters: what goes wrong if it is left in.
    pub why: &'static str,
    /// What to change.
    pub fix: &'static str,
}

/// Why `code` matters and how to fix it.
pub fn explain(code: Code) -> RuleDoc {
    let (why, fix) = match code {
        Code::FileUnreadable => (
            "attune only reads regular files inside the pack folder, as UTF-8 text. A FIFO, \
             a socket, a directory named like a workflow, a symlink leading out of the pack or \
             bytes that are not UTF-8 would block the loader, leak another file's content, or \
             be registered as garbage, so the file is reported and never read.",
            "Make the file a regular UTF-8 text file inside the pack folder (replace a symlink \
             by the file it points to, re-save the file as UTF-8).",
        ),
        Code::InvalidWorkflowName => (
            "A workflow's name is its file name (without `.yaml`, `.yml` and `.workflow`), and \
             its ref is `{pack}.{name}`: a name with dots or spaces would make a ref that \
             cannot be told from a pack ref or used in a URL, so the file is not registered. \
             Its content is still checked, so every other problem shows at once.",
            "Rename the file using letters, digits, `_` and `-` (the hint proposes a name).",
        ),
        Code::InvalidWorkflowFile => (
            "An action-linked workflow (upstream's layout) is its action file plus the \
             graph-only file its `workflow_file` names, relative to `actions/`. A link to a \
             file that does not exist, that leaves the pack folder (never read: a pack must \
             not make the appliance read other files) or that another action already uses \
             leaves the action without a workflow.",
            "Point `workflow_file` at the action's own graph file inside the pack, e.g. \
             `workflows/deploy_app.workflow.yaml` for `actions/workflows/deploy_app.workflow.yaml`.",
        ),
        Code::ShadowedWorkflow => (
            "Two files define the same workflow ref; only one can be registered. As \
             upstream Attune does, the action-linked workflow wins over \
             `actions/workflows/`, which wins over `workflows/`, and the loser is not read.",
            "Remove or rename the losing file, so that what is registered is what you read.",
        ),
        Code::SkippedFile => (
            "Only `*.yaml` and `*.yml` files with a UTF-8 name are workflow files. A file \
             that looks like one (`DEPLOY.YAML`, a name in another encoding) would otherwise \
             be left out without a word, and its workflow would silently not exist.",
            "Rename the file with a lowercase `.yaml` or `.yml` extension and a UTF-8 name, \
             or move it out of `workflows/` if it is not a workflow.",
        ),
        Code::FileTooLarge => (
            "A workflow file larger than `max_workflow_file_bytes` is refused before it is \
             read, so one huge or runaway file cannot exhaust the appliance's memory.",
            "Split the workflow into smaller workflows called as tasks (`type: workflow`), or \
             raise `max_workflow_file_bytes` in the configuration if the size is intended.",
        ),
        Code::YamlSyntax => (
            "A file that is not well-formed YAML has no meaning to check: nothing after the \
             syntax error can be trusted. Duplicate keys and several documents in one file \
             are refused too, because YAML tools disagree about which value wins.",
            "Fix the YAML at the reported position (an indentation, a missing quote, a tab \
             used for indentation, a repeated key); keep one document per file.",
        ),
        Code::YamlLimits => (
            "Alias expansion (\"billion laughs\") and deep nesting let a few bytes of YAML \
             expand into gigabytes; the parser's budget stops such a file before it costs \
             the appliance its memory or stack.",
            "Write the repeated structure out instead of nesting aliases, and flatten the \
             nesting; real workflows stay far below the budget.",
        ),
        Code::NotAMapping => (
            "A workflow file is a mapping (`label:`, `version:`, `tasks:` …); a list or a \
             plain value at the top cannot be a workflow.",
            "Make the top level of the file a mapping with the workflow's keys.",
        ),
        Code::MissingField => (
            "Fields such as `version`, `tasks`, a task's `name` and (for action tasks) \
             `action` are required: without them the workflow cannot run or cannot be \
             registered.",
            "Add the field named in the message.",
        ),
        Code::WrongType => (
            "A value of the wrong type (a list where a mapping is expected, text where a \
             number is expected, an unknown enum value) would be misread by the engine at \
             run time.",
            "Give the field a value of the type the message names.",
        ),
        Code::EmptyTasks => (
            "A workflow or a parallel block with no tasks does nothing: almost always a \
             mistake in indentation or a half-written file.",
            "Add at least one task, or remove the empty block.",
        ),
        Code::DuplicateTask => (
            "Transitions name tasks; two tasks with one name in one list make every \
             transition to that name ambiguous.",
            "Rename one of the tasks and update the transitions that should reach it.",
        ),
        Code::UnknownTask => (
            "A transition to a task that does not exist fails at run time, at the moment \
             that branch is taken: often in the error path that nobody tested.",
            "Correct the task name (the hint proposes the closest one) or add the missing \
             task to the same list.",
        ),
        Code::InvalidTaskType => (
            "The engine runs three kinds of task: `action`, `parallel` and `workflow`. Any \
             other type cannot run.",
            "Use one of `action`, `parallel` or `workflow` (or leave `type` out for an \
             action task).",
        ),
        Code::RefMismatch => (
            "A workflow's ref is `{pack_ref}.{name}`, from the pack and the file name; a \
             different `ref` in the file would register it under a name that another file \
             may own.",
            "Remove the `ref` key, or make it `{pack_ref}.{file name}`.",
        ),
        Code::ReservedName => (
            "Some names belong to the expression language's namespaces (`parameters`, \
             `vars`, `task`, `item`, `pack` …); a task named like one of them would shadow \
             the namespace in every expression that follows.",
            "Rename the task.",
        ),
        Code::FieldTooLong => (
            "Fields have maximum lengths (labels, descriptions, names) so that the database, \
             the API and the UI stay bounded.",
            "Shorten the field below the limit in the message.",
        ),
        Code::InvalidActionRef => (
            "An action ref is `pack.action`; anything else cannot be resolved to an action.",
            "Write the ref as `pack.action`, e.g. `core.echo`.",
        ),
        Code::UndefinedAction => (
            "A task that calls an action the pack, the registered workflows and the \
             built-in `core` actions do not define fails when it is reached.",
            "Correct the ref (the hint proposes the closest one), add the action file under \
             the pack's `actions/`, or register the workflow it names.",
        ),
        Code::UnknownPack => (
            "A task that calls an action of a pack that is not installed fails when it is \
             reached; unlike `undefined-action`, the fix is not in the ref but in what is \
             installed next to the pack.",
            "Install the pack in the packs folder (or register it), or, for `attune \
             validate` in a pack's own repository, name the folder holding its dependencies \
             with `--packs-path DIR`.",
        ),
        Code::InvalidRetry => (
            "A retry policy with a count outside 1–100, a negative delay, an unknown backoff \
             or a `max_delay` below `delay` does not retry the way it reads.",
            "Give `retry` a `count` from 1 to 100, a `delay` of 0 or more seconds, a \
             `backoff` of constant, linear or exponential, and a `max_delay` of at least \
             `delay`.",
        ),
        Code::InvalidIteration => (
            "`batch_size` and `concurrency` below 1 would never start an item.",
            "Use 1 or more, or remove the option.",
        ),
        Code::InvalidDecision => (
            "A legacy `decision` entry needs a condition (or `default: true`) and a `next` \
             task; a malformed entry is never taken.",
            "Give each entry `when:` (or `default: true`) and `next:`; better, use the \
             canonical `next:` list with `when` and `do`.",
        ),
        Code::InvalidVariableName => (
            "Variable names are referenced from expressions (`vars.name`); names outside \
             `^[A-Za-z0-9_-]+$` cannot be referenced.",
            "Rename the variable with letters, digits, `_` and `-`.",
        ),
        Code::InvalidSchema => (
            "A parameters or output schema that is malformed cannot check the values given \
             at run time, and clients that build forms from it break.",
            "Fix the schema as the message says (a type that exists, `properties` a \
             mapping, `required` a list of declared names).",
        ),
        Code::ExpressionSyntax => (
            "An expression that does not parse fails when the task is rendered, at run \
             time.",
            "Fix the expression at the reported column (a missing parenthesis or quote, an \
             operator without its operand); see the expression language reference.",
        ),
        Code::MissingInput => (
            "An action parameter that is required and has no default must be given by the \
             task, or the action fails before it starts.",
            "Add the input to the task's `input:` mapping.",
        ),
        Code::UnknownKey => (
            "A key that is not part of the format is ignored by the engine, so a misspelled \
             key (`on_sucess`) silently drops what it was meant to do.",
            "Correct the key (the hint proposes the closest one) or remove it.",
        ),
        Code::MissingLabel => (
            "The label is what people see in lists and in the UI; without it they see only \
             the ref.",
            "Add `label:` with a short human name.",
        ),
        Code::VersionNotSemver => (
            "Versions are compared as semantic versions when packs are upgraded; a version \
             that is not one cannot be ordered.",
            "Use `MAJOR.MINOR.PATCH`, e.g. `1.0.0`.",
        ),
        Code::LegacyTransitionsIgnored => (
            "When a task has `next`, the engine ignores its legacy `on_success`, \
             `on_failure`, `on_complete`, `on_timeout` and `decision`; they read as if they \
             worked.",
            "Move the legacy transitions into `next:` entries and remove them.",
        ),
        Code::UnreachableTask => (
            "A task that no transition path reaches never runs: dead code, or a transition \
             that was meant to point to it.",
            "Add a transition to the task, or remove it.",
        ),
        Code::NoEntryPoint => (
            "The engine starts with the tasks that no transition targets; when every task \
             is a target, nothing starts.",
            "Make sure at least one task is not the target of a transition (usually the \
             first).",
        ),
        Code::UnusedIterationOption => (
            "`batch_size` and `concurrency` only apply to a task with `with_items`; without \
             it they do nothing.",
            "Add `with_items`, or remove the option.",
        ),
        Code::UnknownFunction => (
            "An expression that calls a function the engine does not have fails when it is \
             evaluated.",
            "Correct the function name (the hint proposes the closest one); see the \
             expression language reference for the functions there are.",
        ),
        Code::UnknownVariable => (
            "An expression that names a parameter, variable or task the workflow does not \
             declare renders as nothing or fails at run time.",
            "Correct the name (the hint proposes the closest one) or declare it under \
             `parameters`, `vars` or as a task.",
        ),
        Code::UnexpectedInput => (
            "An input that the action does not declare is ignored by the action: often a \
             misspelled parameter name, so the intended value never arrives.",
            "Correct the input's name to one of the action's parameters, or remove it.",
        ),
        Code::NonCanonicalForm => (
            "attune accepts some compatibility spellings (older or upstream forms); they \
             work, but the canonical form is what the documentation, the schema and other \
             tools expect.",
            "Rewrite as the hint shows.",
        ),
        Code::ConstantCondition => (
            "A `when` condition that is always true or always false makes its transition \
             always or never taken: usually a condition written by mistake as a literal.",
            "Write a condition that depends on the task's result or the workflow's data, or \
             remove `when`.",
        ),
    };
    RuleDoc { why, fix }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_explained_in_sentences() {
        for &c in Code::ALL {
            let d = explain(c);
            assert!(d.why.len() > 40, "{c}: why is too short");
            assert!(d.fix.ends_with('.'), "{c}: fix is not a sentence");
            assert!(!d.why.contains("  "), "{c}: doubled space");
            assert!(!d.fix.contains("  "), "{c}: doubled space");
        }
        assert_eq!(rule_path(Code::UnknownTask), "/docs/rules#unknown-task");
    }
}
