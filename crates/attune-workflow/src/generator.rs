//! Deterministic generator of a realistic pack of workflows (5–30 tasks
//! each: parameters in both forms, vars, templates, next with when/publish,
//! legacy on_success/on_failure, parallel blocks, with_items, retry,
//! decision, comments). Shared by the benchmark and a test that checks the
//! generated files are valid.

use crate::{ActionInfo, ActionKind, MapCatalog, ParamInfo};
use std::fmt::Write;

/// A small xorshift generator: same seed, same pack, on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

const WORDS: &[&str] = &[
    "deploy", "verify", "build", "notify", "fetch", "render", "scan", "sync", "backup", "restore",
    "rotate", "prune", "index", "report", "archive", "upload", "collect", "migrate", "warm",
    "drain",
];

/// The catalog the generated workflows use: pack `bench` actions.
pub fn catalog() -> MapCatalog {
    let mut c = MapCatalog::new();
    for w in WORDS {
        c.insert(
            format!("bench.{w}"),
            ActionInfo {
                kind: ActionKind::Action,
                parameters: Some(vec![
                    ParamInfo {
                        name: "target".into(),
                        required: true,
                        has_default: false,
                    },
                    ParamInfo {
                        name: "timeout".into(),
                        required: false,
                        has_default: true,
                    },
                    ParamInfo {
                        name: "options".into(),
                        required: false,
                        has_default: false,
                    },
                    ParamInfo {
                        name: "message".into(),
                        required: false,
                        has_default: false,
                    },
                ]),
            },
        );
    }
    c
}

/// `n` workflows of pack `bench` as (name, YAML text).
pub fn pack(n: usize, seed: u64) -> Vec<(String, String)> {
    pack_named("bench", n, seed, 0)
}

/// `n` workflows of pack `pack_ref` (whose actions are the ones
/// [`action_files`] writes) as (name, YAML text). About `broken_pct` percent
/// of them carry one error (a transition to a task that does not exist, or
/// a YAML syntax error), chosen by the same seeded generator.
pub fn pack_named(pack_ref: &str, n: usize, seed: u64, broken_pct: u64) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let name = format!("wf_{i:04}");
            let mut text = workflow(&mut rng, pack_ref, &name);
            if broken_pct > 0 && rng.chance(broken_pct) {
                if rng.chance(50) {
                    text.push_str("  - name: broken_tail\n    action: core.noop\n    next:\n      - do: [no_such_task]\n");
                } else {
                    text.push_str("tags: [unclosed\n");
                }
            }
            (name, text)
        })
        .collect()
}

/// The `actions/*.yaml` files of a generated pack as (file name, YAML text):
/// one action per word, with the parameters [`catalog`] declares.
pub fn action_files(pack_ref: &str) -> Vec<(String, String)> {
    WORDS
        .iter()
        .map(|w| {
            let text = format!(
                "ref: {pack_ref}.{w}\nlabel: \"{w}\"\ndescription: \"Generated action {w}\"\nrunner_type: shell\nentry_point: {w}.sh\nparameters:\n  target:\n    type: string\n    required: true\n  timeout:\n    type: integer\n    default: 60\n  options:\n    type: object\n  message:\n    type: string\n"
            );
            (format!("{w}.yaml"), text)
        })
        .collect()
}

fn task_name(i: usize) -> String {
    format!("{}_{i}", WORDS[i % WORDS.len()])
}

fn workflow(rng: &mut Rng, pack_ref: &str, name: &str) -> String {
    let mut s = String::with_capacity(8192);
    let tasks = 5 + rng.below(26) as usize;
    let _ = writeln!(s, "# Generated workflow {name}: {tasks} tasks");
    let _ = writeln!(s, "# It exercises the features real packs use.\n");
    let _ = writeln!(s, "ref: {pack_ref}.{name}");
    let _ = writeln!(s, "label: \"Generated workflow {name}\"");
    let _ = writeln!(
        s,
        "description: |\n  A generated workflow used to measure parse and validate speed.\n  It has {tasks} tasks, templates, transitions and parallel blocks."
    );
    let _ = writeln!(s, "version: \"1.{}.0\"", rng.below(20));
    let _ = writeln!(
        s,
        "tags: [generated, bench, {}]\n",
        WORDS[rng.below(20) as usize]
    );
    if rng.chance(50) {
        s.push_str("parameters:\n  environment:\n    type: string\n    enum: [dev, staging, production]\n    default: dev\n    description: \"Target environment\"\n  hosts:\n    type: array\n    items:\n      type: string\n    required: true\n    description: \"Hosts to act on\"\n  dry_run:\n    type: boolean\n    default: false\n\n");
    } else {
        s.push_str("parameters:\n  type: object\n  properties:\n    environment:\n      type: string\n      default: dev\n    hosts:\n      type: array\n      items: {type: string}\n    dry_run:\n      type: boolean\n  required: [hosts]\n\n");
    }
    s.push_str("output:\n  type: object\n  properties:\n    status: {type: string}\n    count: {type: integer}\n\n");
    s.push_str("vars:\n  attempts: 0\n  last_result: null\n  summary: []\n\n");
    s.push_str("tasks:\n");
    for i in 0..tasks {
        let tn = task_name(i);
        let action = WORDS[rng.below(20) as usize];
        let _ = writeln!(s, "  # step {i}");
        let _ = writeln!(s, "  - name: {tn}");
        if i > 0 && i + 1 < tasks && rng.chance(12) {
            // A parallel block of 2-4 tasks.
            s.push_str("    type: parallel\n    tasks:\n");
            for j in 0..(2 + rng.below(3)) {
                let _ = writeln!(
                    s,
                    "      - name: {tn}_part{j}\n        action: {pack_ref}.{}\n        input:\n          target: \"{{{{ parameters.hosts[{j}] }}}}\"\n          message: \"part {j} of {tn}\"",
                    WORDS[rng.below(20) as usize]
                );
            }
            let _ = writeln!(
                s,
                "    next:\n      - when: \"{{{{ succeeded() }}}}\"\n        do: [{}]",
                task_name(i + 1)
            );
            continue;
        }
        let _ = writeln!(s, "    action: {pack_ref}.{action}");
        let iter = rng.chance(20);
        if iter {
            s.push_str("    with_items: \"{{ parameters.hosts }}\"\n    batch_size: 5\n    concurrency: 2\n");
        }
        s.push_str("    input:\n");
        if iter {
            s.push_str("      target: \"{{ item }}\"\n");
        } else {
            let _ = writeln!(s, "      target: \"{{{{ parameters.environment }}}}-{i}\"");
        }
        let _ = writeln!(s, "      timeout: {}", 30 + rng.below(600));
        if rng.chance(50) {
            s.push_str("      options:\n        verbose: true\n        labels: [a, b, c]\n        dry_run: \"{{ parameters.dry_run }}\"\n");
        }
        if i > 0 {
            let _ = writeln!(
                s,
                "      message: \"after {} with {{{{ task.{}.result.status }}}} and {{{{ length(vars.summary) }}}} items\"",
                task_name(i - 1),
                task_name(i - 1)
            );
        }
        if rng.chance(30) {
            let _ = writeln!(
                s,
                "    retry:\n      count: {}\n      delay: 5\n      backoff: exponential\n      max_delay: 120",
                1 + rng.below(5)
            );
        }
        if rng.chance(15) {
            s.push_str("    timeout: 900\n");
        }
        if i + 1 >= tasks {
            continue;
        }
        let next = task_name(i + 1);
        match rng.below(10) {
            0 | 1 => {
                let _ = writeln!(s, "    on_success: {next}");
                if i + 2 < tasks {
                    let _ = writeln!(s, "    on_failure: {}", task_name(tasks - 1));
                }
            }
            2 => {
                let _ = writeln!(
                    s,
                    "    decision:\n      - when: \"{{{{ parameters.environment == 'production' }}}}\"\n        next: {next}\n      - default: true\n        next: {next}"
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "    next:\n      - when: \"{{{{ succeeded() and result().status == 'ok' }}}}\"\n        publish:\n          - last_result: \"{{{{ result() }}}}\"\n          - attempts: \"{{{{ vars.attempts + 1 }}}}\"\n        do:\n          - {next}"
                );
                if rng.chance(40) {
                    let _ = writeln!(
                        s,
                        "      - when: \"{{{{ failed() and vars.attempts < 3 }}}}\"\n        do: [{tn}]"
                    );
                }
            }
        }
    }
    s.push_str(
        "\noutput_map:\n  status: \"{{ vars.last_result }}\"\n  count: \"{{ vars.attempts }}\"\n",
    );
    s
}
