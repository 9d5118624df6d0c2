//! The JSON Schema agrees with the validator on every file in tests/data
//! and on the corpus: a file the validator accepts validates against the
//! schema (so a file the schema rejects is one the validator rejects), and
//! the schema catches the structural errors editors should show.

use crate::helpers::{CASE_MAX_BYTES, data_catalog, data_dir};
use attune::pack;
use attune::workflow::schema::workflow_schema;
use attune::workflow::yaml::{Limits, parse};
use attune::workflow::{BuiltinCatalog, LayeredCatalog};

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&workflow_schema()).expect("the schema compiles")
}

#[test]
fn schema_is_a_superset_of_what_the_validator_accepts() {
    let schema = validator();
    let dir = data_dir();
    let pc = data_catalog();
    let builtins = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &builtins]);
    let mut accepted = 0;
    let mut schema_rejected = Vec::new();
    for f in pack::list_workflow_files(&dir).unwrap() {
        let o = pack::load_and_validate(&f, &dir, "data", CASE_MAX_BYTES, &cat);
        let Some(text) = o.source.as_deref() else {
            assert!(o.validation.has_errors(), "{}", f.name);
            continue;
        };
        let Ok(doc) = parse(text, &Limits::default()) else {
            assert!(o.validation.has_errors(), "{}", f.name);
            continue;
        };
        let json = doc.root.to_json();
        let ok = schema.is_valid(&json);
        if !o.validation.has_errors() {
            accepted += 1;
            let errors: Vec<String> = schema
                .iter_errors(&json)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(
                ok,
                "validator accepts {} but the schema rejects it: {errors:?}",
                f.name
            );
        }
        if !ok {
            assert!(
                o.validation.has_errors(),
                "schema rejects {} but the validator accepts it",
                f.name
            );
            schema_rejected.push(f.name.clone());
        }
    }
    assert!(accepted > 40, "only {accepted} accepted cases");
    // The structural errors an editor should flag while typing.
    for case in [
        "missing-field-fail",
        "missing-field-task-fail",
        "empty-tasks-fail",
        "wrong-type-orquesta-fail",
        "wrong-type-fail",
        "invalid-task-type-fail",
        "invalid-retry-fail",
        "invalid-iteration-fail",
        "reserved-name-fail",
        "invalid-schema-fail",
        "invalid-variable-name-fail",
        "invalid-decision-fail",
        "field-too-long-fail",
        "invalid-action-ref-fail",
        "not-a-mapping-fail",
    ] {
        assert!(
            schema_rejected.iter().any(|n| n == case),
            "the schema accepts {case}"
        );
    }
}

#[test]
fn schema_declares_draft_2020_12_and_documents_task_keys() {
    let s = workflow_schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let task = &s["$defs"]["task"]["properties"];
    for key in [
        "name",
        "type",
        "action",
        "input",
        "next",
        "with_items",
        "retry",
        "on_success",
    ] {
        assert!(task.get(key).is_some(), "{key}");
    }
}

/// The graph-only files of the action-linked cases that attune accepts
/// validate against the graph schema; a graph without `tasks` does not.
#[test]
fn graph_files_validate_against_the_graph_schema() {
    let graph = jsonschema::draft202012::new(&attune::workflow::schema::graph_schema())
        .expect("the graph schema compiles");
    let dir = data_dir();
    let pc = data_catalog();
    let builtins = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &builtins]);
    let mut checked = 0;
    for f in pack::list_workflow_files(&dir).unwrap() {
        if f.linked.is_none() {
            continue;
        }
        let o = pack::load_and_validate(&f, &dir, "data", CASE_MAX_BYTES, &cat);
        let (Some(text), false) = (o.source.as_deref(), o.validation.has_errors()) else {
            continue;
        };
        let doc = parse(text, &Limits::default()).expect("parses");
        let errors: Vec<String> = graph
            .iter_errors(&doc.root.to_json())
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", f.name);
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} graph files");
    assert!(!graph.is_valid(&serde_json::json!({"version": "1.0.0"})));
}
