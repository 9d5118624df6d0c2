//! Rules the whole API follows, written into the OpenAPI document once
//! instead of on every handler: the errors every JSON body can cause (400
//! malformed, 413 too large, 415 not JSON), 401 on every authenticated
//! operation, 500 (a failed write, e.g. a full disk) on every writing method and 503 (database
//! unavailable after an I/O failure) everywhere, and the syntax of path and paging parameters and of the
//! fields the handlers check (refs, labels, versions), so a client (or an
//! API fuzzer) can tell from the document alone what will be accepted.
//! Applied to the served document by `openapi::openapi_json`.

use serde_json::{Map, Value, json};

/// A pack ref: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$` without `..` and not
/// ending in `.` (the regex spells "no two dots in a row" without
/// look-ahead).
pub const PACK_REF_PATTERN: &str = r"^[A-Za-z0-9](\.?[A-Za-z0-9_-])*$";
/// A workflow ref: `{pack_ref}.{name}`, the name `^[A-Za-z0-9_-]+$`.
pub const WORKFLOW_REF_PATTERN: &str = r"^[A-Za-z0-9](\.?[A-Za-z0-9_-])*\.[A-Za-z0-9_-]+$";
/// A workflow or task name.
pub const NAME_PATTERN: &str = r"^[A-Za-z0-9_-]+$";

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// Applies every rule to the document (a no-op on parts it does not know).
pub fn apply(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                ) {
                    continue;
                }
                let writes = matches!(method.as_str(), "put" | "post" | "delete" | "patch");
                if let Some(op) = op.as_object_mut() {
                    operation(path, writes, op);
                }
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            body_schema(name, schema);
        }
    }
}

fn operation(path: &str, writes: bool, op: &mut Map<String, Value>) {
    let has_body = op.contains_key("requestBody");
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(responses) = responses {
        if has_body {
            responses
                .entry("400")
                .or_insert_with(|| error_response("malformed JSON or a body of the wrong shape"));
            responses
                .entry("413")
                .or_insert_with(|| error_response("request body larger than 2 MiB"));
            responses.entry("415").or_insert_with(|| {
                error_response("request body is not JSON (Content-Type must be application/json)")
            });
        }
        if secured {
            responses
                .entry("401")
                .or_insert_with(|| error_response("missing, invalid or expired access token"));
        }
        if writes {
            responses.entry("500").or_insert_with(|| {
                error_response(
                    "the write failed (code INSUFFICIENT_STORAGE: the disk of the data directory is full; free space and retry)",
                )
            });
        }
        responses.entry("503").or_insert_with(|| {
            error_response("the database is unavailable after an i/o failure; it reopens by itself")
        });
    }
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            parameter(path, p);
        }
    }
}

fn parameter(path: &str, p: &mut Value) {
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let place = p
        .get("in")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) else {
        return;
    };
    match (place.as_str(), name.as_str()) {
        ("path", "ref") if path.starts_with("/api/v1/workflows/") => {
            schema.insert("pattern".into(), json!(WORKFLOW_REF_PATTERN));
            schema.insert("maxLength".into(), json!(128 + 1 + 255));
        }
        ("path", "ref") => {
            schema.insert("pattern".into(), json!(PACK_REF_PATTERN));
            schema.insert("maxLength".into(), json!(128));
        }
        ("query", "page") => {
            // A u64: the whole range is accepted, so no int64 format.
            schema.remove("format");
            schema.insert("minimum".into(), json!(1));
            schema.insert("maximum".into(), json!(u64::MAX));
        }
        ("query", "per_page") => {
            schema.insert("minimum".into(), json!(1));
            schema.insert("maximum".into(), json!(crate::api::MAX_PER_PAGE));
        }
        _ => {}
    }
}

/// Constraints of the request bodies' fields, by schema name.
fn body_schema(name: &str, schema: &mut Value) {
    let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    let is_request = name.ends_with("Request");
    for (field, prop) in props.iter_mut() {
        let Some(prop) = prop.as_object_mut() else {
            continue;
        };
        let is_string = prop.get("type").is_some_and(|t| {
            t == "string"
                || t.as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "string"))
        });
        if !is_request || !is_string {
            continue;
        }
        match field.as_str() {
            "ref" | "pack_ref" => {
                prop.insert("pattern".into(), json!(PACK_REF_PATTERN));
                prop.insert("maxLength".into(), json!(128));
            }
            "name" => {
                prop.insert("pattern".into(), json!(NAME_PATTERN));
            }
            "label" => {
                prop.insert("pattern".into(), json!(r"\S"));
                prop.insert("maxLength".into(), json!(255));
            }
            "version" => {
                prop.insert("pattern".into(), json!(r"\S"));
                prop.insert("maxLength".into(), json!(50));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        let schema = json!({"type": "string", "pattern": pattern, "maxLength": 400});
        jsonschema::validator_for(&schema)
            .expect("schema")
            .is_valid(&json!(s))
    }

    const SAMPLES: &[&str] = &[
        "core",
        "a",
        "a.b",
        "a..b",
        ".a",
        "a.",
        "-a",
        "a-b_c.d",
        "ä",
        "a/b",
        "",
        "..",
        "a.b.c",
        "a b",
        "0",
        "core.install_packs",
        "x.y-z_1",
        "a.b.",
        "a..b.c",
        "a.%2e",
        "%2e%2e",
    ];

    #[test]
    fn the_pack_ref_pattern_agrees_with_the_parser() {
        for s in SAMPLES {
            assert_eq!(
                matches(PACK_REF_PATTERN, s),
                crate::refs::PackRef::parse(s).is_ok(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_workflow_ref_pattern_agrees_with_pack_ref_dot_name() {
        for s in SAMPLES {
            let by_rules = s.rsplit_once('.').is_some_and(|(pack, name)| {
                crate::refs::PackRef::parse(pack).is_ok() && crate::workflow::is_valid_name(name)
            });
            assert_eq!(matches(WORKFLOW_REF_PATTERN, s), by_rules, "{s:?}");
        }
    }

    #[test]
    fn bodies_get_401_413_415_and_refs_get_patterns() {
        let mut doc = json!({
            "paths": {"/api/v1/packs/{ref}": {"put": {
                "security": [{"bearer": []}],
                "requestBody": {},
                "parameters": [{"name": "ref", "in": "path", "schema": {"type": "string"}}],
                "responses": {"200": {}}
            }}},
            "components": {"schemas": {"CreatePackRequest": {"properties": {
                "ref": {"type": "string"}, "label": {"type": "string"}
            }}}}
        });
        apply(&mut doc);
        let op = &doc["paths"]["/api/v1/packs/{ref}"]["put"];
        for code in ["400", "401", "413", "415", "500", "503"] {
            assert!(op["responses"][code].is_object(), "{code}");
        }
        assert_eq!(op["parameters"][0]["schema"]["pattern"], PACK_REF_PATTERN);
        let props = &doc["components"]["schemas"]["CreatePackRequest"]["properties"];
        assert_eq!(props["label"]["maxLength"], 255);
        assert_eq!(props["ref"]["pattern"], PACK_REF_PATTERN);
    }
}
