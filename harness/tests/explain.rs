//! `mailscope explain` agrees with `mailscope run` on every shipped case: same token (aud, or
//! the refusing code), same probe results, same replies (Exchange's suffix aside).

use std::path::Path;

use mailscope::explain::{Question, predict, without_suffix};
use mailscope::outcome::TokenRecord;
use mailscope::runner::run_case;
use mailscope::scenario;
use mailscope::target::Target;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_agrees_with_run_on_every_shipped_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("scenarios");
    let mut disagreements = Vec::new();
    let mut cases = 0;
    for file in scenario::discover(&[root]).unwrap() {
        let scenario = scenario::load(&file).unwrap();
        for case in &scenario.cases {
            cases += 1;
            let predicted = predict(&Question::from_case(&scenario, case));
            let outcome = run_case(&Target::Simulated, &scenario, case).await.unwrap();

            let summary = outcome.token.summary();
            let observed_token = match &outcome.token {
                TokenRecord::Issued { .. } => Ok(summary.aud.clone()),
                TokenRecord::Denied(denial) => Err(denial.code()),
            };
            let predicted_token = predicted
                .token
                .as_ref()
                .map(|token| (!token.aud.is_empty()).then(|| token.aud.clone()))
                .map_err(Clone::clone);
            // An opaque token has no aud to compare; the prediction knows it from the claims.
            let comparable = |observed: &Result<Option<String>, String>| match observed {
                Ok(None) => Ok(None),
                other => other.clone(),
            };
            if comparable(&observed_token) != predicted_token && observed_token != Ok(None) {
                disagreements.push(format!(
                    "{}: token {observed_token:?} vs predicted {predicted_token:?}",
                    case.id
                ));
            }
            for (observed, (protocol, result, reply)) in outcome.probes.iter().zip(&predicted.probes) {
                let observed_reply = observed.reply.as_deref().map(without_suffix);
                if observed.protocol != *protocol
                    || observed.result != *result
                    || observed_reply != reply.as_deref()
                {
                    disagreements.push(format!(
                        "{}: {protocol:?} {:?} {observed_reply:?} vs predicted {result:?} {reply:?}",
                        case.id, observed.result
                    ));
                }
            }
        }
    }
    assert!(cases > 50, "the shipped scenarios were found");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
