//! The JSON Schema of scenario files is generated from the scenario types, shipped as
//! `scenarios/scenario.schema.json`, and every shipped scenario validates against it
//! (with Python's `jsonschema` and `tomllib`, a validator nobody here wrote).

mod common;

use std::path::{Path, PathBuf};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .join("scenarios")
}

#[test]
fn the_shipped_schema_is_the_generated_one() {
    let shipped =
        std::fs::read_to_string(scenarios().join("scenario.schema.json")).expect("the schema is shipped");
    assert_eq!(
        shipped,
        mailscope::scenario::types::json_schema(),
        "regenerate it: cargo run -p mailscope -- schema > scenarios/scenario.schema.json"
    );
}

const VALIDATE: &str = r#"
import json, pathlib, sys, tomllib
import jsonschema
root = pathlib.Path(sys.argv[1])
schema = json.loads((root / "scenario.schema.json").read_text())
validator = jsonschema.Draft202012Validator(schema)
files = sorted(root.rglob("*.toml"))
bad = 0
for path in files:
    for error in validator.iter_errors(tomllib.loads(path.read_text())):
        bad += 1
        print(f"{path}: {error.message} at {list(error.path)}")
bad_file = {"title": "t", "source": "s", "case": [{"name": "a", "scopes": ["x"], "scope": ["y"]}]}
assert list(validator.iter_errors(bad_file)), "an unknown key must not validate"
print(f"{len(files)} files, {bad} errors")
sys.exit(1 if bad else 0)
"#;

#[test]
fn every_shipped_scenario_validates_against_the_schema() {
    let output = common::python()
        .args(["-c", VALIDATE])
        .arg(scenarios())
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(
        text.trim_end().ends_with(" errors") && text.contains(" files, 0 errors"),
        "{text}"
    );
}
