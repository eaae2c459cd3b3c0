//! JUnit XML for CI systems: one test suite per scenario file, one test case per scenario case;
//! a case whose expectations did not hold is a failure carrying them, one that could not run is
//! an error. Written with quick-junit (nextest's own writer).

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::outcome::{Expectation, Outcome};
use crate::runner::CaseError;

/// Renders every result as one JUnit XML document.
pub fn render(results: &[Result<Outcome, CaseError>]) -> String {
    let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
    for result in results {
        let id = match result {
            Ok(outcome) => &outcome.id,
            Err(error) => &error.id,
        };
        let (suite_name, case_name) = id.rsplit_once('/').unwrap_or(("scenarios", id));
        let status = match result {
            Ok(outcome) if outcome.expectation == Expectation::Unmet => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message("expectations not met");
                status.set_type("unmet");
                status.set_description(outcome.mismatches.join("\n"));
                status
            }
            Ok(outcome) if outcome.skipped.is_some() => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(outcome.skipped.clone().unwrap_or_default());
                status
            }
            Ok(_) => TestCaseStatus::success(),
            Err(error) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message("the case could not run");
                status.set_type("error");
                status.set_description(error.message.clone());
                status
            }
        };
        let mut case = TestCase::new(case_name, status);
        case.set_classname(suite_name.replace('/', "."));
        if let Ok(outcome) = result {
            let summary = outcome.token.summary();
            let mut out = format!(
                "source: {}\nscopes: {}\ntoken: {}\n",
                outcome.source,
                outcome.request.scopes.join(" "),
                summary
                    .error
                    .clone()
                    .or(summary.aud.clone().map(|aud| format!("aud {aud}")))
                    .unwrap_or_else(|| "issued (opaque)".into())
            );
            for probe in &outcome.probes {
                out.push_str(&format!(
                    "{}: {} {}\n",
                    crate::outcome::protocol_name(probe.protocol),
                    probe.result.as_str(),
                    probe.reply.as_deref().unwrap_or_default()
                ));
            }
            case.set_system_out(out);
        }
        suites
            .entry(suite_name.to_owned())
            .or_insert_with(|| TestSuite::new(suite_name))
            .add_test_case(case);
    }
    let mut report = Report::new("mailscope");
    report.add_test_suites(suites.into_values());
    let xml = report.to_string().expect("JUnit XML always serializes");
    without_root_skipped(&xml)
}

/// quick-junit writes a `skipped` count on `<testsuites>`, which Jenkins' junit-10.xsd (the
/// schema most CI systems read) does not allow there; each `<testsuite>` keeps its own count.
fn without_root_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites ") else {
        return xml.to_owned();
    };
    let end = xml[start..].find('>').map_or(xml.len(), |offset| start + offset);
    let Some(attribute) = xml[start..end].find(" skipped=\"").map(|offset| start + offset) else {
        return xml.to_owned();
    };
    let value_start = attribute + " skipped=\"".len();
    let Some(value_end) = xml[value_start..end]
        .find('"')
        .map(|offset| value_start + offset + 1)
    else {
        return xml.to_owned();
    };
    format!("{}{}", &xml[..attribute], &xml[value_end..])
}
