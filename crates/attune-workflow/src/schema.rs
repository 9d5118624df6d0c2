//! The JSON Schema (draft 2020-12) of the workflow format, for editors
//! (completion, hover text, early checks) and
//! `GET /api/v1/schema/workflow.json` / `attune schema`.
//!
//! The schema is deliberately a superset of what the validator accepts:
//! every file without errors validates against it (warnings such as
//! unknown keys and the compatibility forms of docs/WORKFLOW_FORMAT.md are allowed),
//! so an editor never flags a file that attune registers. Rules a schema
//! cannot express (ref equals pack.name, transitions name existing tasks,
//! actions exist, expressions parse) are left to the validator.

use serde_json::{Value, json};

const NAME_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// The graph-only file of an action-linked workflow (upstream's layout,
/// `actions/workflows/{name}.workflow.yaml`): the workflow schema less what
/// the action file supplies (`ref`, `label`, `description`, `tags`,
/// `parameters`, `output`), which are accepted here but ignored (a warning).
pub fn graph_schema() -> Value {
    let mut s = workflow_schema();
    s["title"] = json!("attune graph-only workflow file");
    s["description"] = json!(
        "The graph of an action-linked workflow (the file an action's workflow_file names): version, vars, tasks, output_map. The action file supplies ref, label, description, tags, parameters and output."
    );
    if let Some(props) = s["properties"].as_object_mut() {
        for k in crate::validate::ACTION_KEYS {
            props.insert(
                (*k).to_string(),
                json!({"deprecated": true, "description": "ignored here: the action file supplies it"}),
            );
        }
    }
    s
}

/// The workflow format as a JSON Schema.
pub fn workflow_schema() -> Value {
    let json_types = json!([
        "string", "integer", "number", "boolean", "array", "object", "null"
    ]);
    let condition = json!({
        "description": "a condition: a string with a {{ }} expression, e.g. \"{{ succeeded() }}\"",
        "type": ["string", "boolean", "null"]
    });
    let do_list = json!({
        "description": "task names (in the same task list) to run next",
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "string"},
            {"type": "null"}
        ]
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "attune workflow",
        "description": "A workflow definition file of an attune pack (workflows/{name}.yaml).",
        "type": "object",
        "required": ["version", "tasks"],
        "properties": {
            "ref": {"type": "string", "maxLength": 255, "description": "optional; must equal {pack_ref}.{file name}"},
            "label": {"type": "string", "maxLength": 255, "description": "human title; defaults to the name"},
            "description": {"type": ["string", "null"]},
            "version": {"type": "string", "minLength": 1, "maxLength": 50, "description": "semantic version, e.g. \"1.0.0\""},
            "parameters": {"$ref": "#/$defs/schemaBlock", "description": "input parameters: flat {name: {type, required, default}} or JSON-Schema form"},
            "output": {"$ref": "#/$defs/schemaBlock", "description": "output schema: flat or JSON-Schema form"},
            "vars": {
                "description": "workflow variables with initial values",
                "anyOf": [
                    {"type": "object", "propertyNames": {"pattern": NAME_PATTERN}},
                    {"type": "array", "items": {"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": {"pattern": NAME_PATTERN}}},
                    {"type": "null"}
                ]
            },
            "tasks": {"$ref": "#/$defs/taskList"},
            "output_map": {"type": ["object", "null"], "description": "result name → template"},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
            "cancellation_policy": {"enum": ["allow_finish", "cancel_running"]}
        },
        "$defs": {
            "taskList": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/task"}
            },
            "task": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {
                        "type": "string", "minLength": 1, "maxLength": 255,
                        "not": {"enum": ["parameters", "vars", "task", "system", "kv", "pack", "item", "batch", "index"]},
                        "description": "unique within its task list"
                    },
                    "type": {"enum": ["action", "parallel", "workflow"], "default": "action"},
                    "action": {
                        "type": "string",
                        "pattern": "^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)+|.*\\{\\{.*)$",
                        "description": "pack.action, a workflow ref, or a core built-in (core.echo, core.http_request, ...)"
                    },
                    "input": {"type": ["object", "null"], "description": "action parameters; values may hold {{ }} templates"},
                    "when": condition,
                    "with_items": {"type": ["string", "array"], "description": "a template or a list to iterate over (item, index)"},
                    "batch_size": {"type": "integer", "minimum": 1},
                    "concurrency": {"type": "integer", "minimum": 1},
                    "retry": {"$ref": "#/$defs/retry"},
                    "timeout": {"type": "integer", "minimum": 1, "description": "seconds"},
                    "next": {
                        "type": ["array", "null"],
                        "items": {"$ref": "#/$defs/transition"},
                        "description": "transitions: [{when, publish, do}]"
                    },
                    "on_success": {"$ref": "#/$defs/legacyTransition"},
                    "on_failure": {"$ref": "#/$defs/legacyTransition"},
                    "on_complete": {"$ref": "#/$defs/legacyTransition"},
                    "on_timeout": {"$ref": "#/$defs/legacyTransition"},
                    "decision": {"type": "array", "items": {"$ref": "#/$defs/decision"}, "description": "legacy; prefer next"},
                    "publish": {"$ref": "#/$defs/publish"},
                    "join": {"type": "integer", "minimum": 0},
                    "tasks": {"$ref": "#/$defs/taskList"},
                    "permission_set_refs": {},
                    "permission_set_ref": {"deprecated": true, "description": "upstream's alias of permission_set_refs (non-canonical-form)"},
                    "worker_selector": {},
                    "worker_tolerations": {},
                    "worker_affinity": {},
                    "__chart_meta__": {}
                },
                "if": {"required": ["type"], "properties": {"type": {"const": "parallel"}}},
                "then": {"required": ["tasks"]},
                "else": {"required": ["action"]}
            },
            "transition": {
                "type": "object",
                "properties": {
                    "when": condition,
                    "publish": {"$ref": "#/$defs/publish"},
                    "do": do_list,
                    "__chart_meta__": {"description": "upstream's visual builder: how the edge is drawn"}
                }
            },
            "legacyTransition": {
                "description": "legacy: a task name (folded into next)",
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": {"type": "object", "properties": {"when": condition, "do": do_list}}}
                ]
            },
            "decision": {
                "type": "object",
                "required": ["next"],
                "properties": {
                    "when": condition,
                    "default": {"const": true},
                    "next": {"type": "string"}
                },
                "anyOf": [{"required": ["when"]}, {"required": ["default"]}],
                "not": {"required": ["when", "default"]}
            },
            "publish": {
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [
                        {"type": "string", "pattern": NAME_PATTERN},
                        {"type": "object", "propertyNames": {"pattern": NAME_PATTERN}}
                    ]}},
                    {"type": "object", "propertyNames": {"pattern": NAME_PATTERN}},
                    {"type": "null"}
                ]
            },
            "retry": {
                "type": "object",
                "required": ["count"],
                "properties": {
                    "count": {"type": "integer", "minimum": 1, "maximum": 100},
                    "delay": {"type": "integer", "minimum": 0},
                    "backoff": {"enum": ["constant", "linear", "exponential"]},
                    "max_delay": {"type": "integer", "minimum": 0},
                    "on_error": {}
                }
            },
            "paramDef": {
                "type": "object",
                "properties": {
                    "type": {"anyOf": [
                        {"enum": json_types},
                        {"type": "array", "items": {"enum": json_types}}
                    ]},
                    "required": {"type": "boolean"}
                }
            },
            "schemaBlock": {
                "anyOf": [
                    {
                        "description": "JSON-Schema form",
                        "type": "object",
                        "anyOf": [{"required": ["type"]}, {"required": ["properties"]}],
                        "properties": {
                            "type": {"const": "object"},
                            "properties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/paramDef"}},
                            "required": {"type": "array", "items": {"type": "string"}}
                        }
                    },
                    {
                        "description": "flat form: {name: {type, required, default, description}}",
                        "type": "object",
                        "additionalProperties": {"$ref": "#/$defs/paramDef"}
                    },
                    {"type": "null"}
                ]
            }
        }
    })
}
