//! Decisions as data. Every choice the simulated identity platform and Exchange Online make is
//! recorded as a [`Decision`]: the [`Rule`] it follows (a stable id, with the catalog cases that
//! document it), the inputs that mattered, and the outcome in a sentence.
//!
//! A rule is declared once, as a `const` beside the code that applies it; `rulebook` lists them
//! all for the shipped rule reference. Decisions never carry a secret: inputs name scopes,
//! audiences, settings and addresses, never tokens, codes or passwords.

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

/// Which part of the simulated cloud a rule belongs to.
///
/// ```
/// assert_eq!(mailscope_mocks::Part::Exchange.as_str(), "exchange");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The identity platform (Entra ID): scopes, consent, grants, tokens.
    Identity,
    /// Exchange Online's SMTP, IMAP and POP3 front doors.
    Exchange,
}

impl Part {
    /// `identity` or `exchange`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Exchange => "exchange",
        }
    }
}

/// One documented behaviour the simulation follows.
///
/// ```
/// let rule = mailscope_mocks::rulebook::rule("first-scope-wins").unwrap();
/// assert_eq!(rule.part, mailscope_mocks::Part::Identity);
/// assert!(rule.cases.contains(&"deleg-mixed-graph-first"));
/// assert_eq!(rule.reference(), "docs/rules.md#first-scope-wins");
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// A stable id (`first-scope-wins`). Ids are never renamed: reports and users cite them.
    pub id: &'static str,
    /// The part of the cloud that applies it.
    pub part: Part,
    /// The behaviour in one line.
    pub title: &'static str,
    /// What the simulation does, and why, in a paragraph.
    pub text: &'static str,
    /// The ids of the catalog cases that document it (`catalog::case`).
    pub cases: &'static [&'static str],
    /// Further public sources (a specification, a Microsoft page) beside the catalog's.
    pub sources: &'static [&'static str],
}

impl Rule {
    /// Returns where the shipped rule reference describes this rule: `docs/rules.md#<id>`.
    pub fn reference(&self) -> String {
        format!("docs/rules.md#{}", self.id)
    }
}

/// One recorded decision: a rule applied to a request, and what came of it.
///
/// ```
/// use mailscope_mocks::Decision;
///
/// let rule = mailscope_mocks::rulebook::rule("audience").unwrap();
/// let decision = Decision::new(rule, "aud is https://outlook.office.com.").with("resource", "Exchange");
/// assert_eq!(decision.line(), "[audience] aud is https://outlook.office.com.");
/// assert_eq!(decision.inputs, [("resource", "Exchange".to_owned())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The rule followed.
    pub rule: &'static Rule,
    /// The inputs that mattered, by name (never a secret).
    pub inputs: Vec<(&'static str, String)>,
    /// The outcome, as a sentence.
    pub outcome: String,
}

impl Decision {
    /// Records that `rule` led to `outcome`.
    pub fn new(rule: &'static Rule, outcome: impl Into<String>) -> Self {
        Self {
            rule,
            inputs: Vec::new(),
            outcome: outcome.into(),
        }
    }

    /// Adds an input that mattered.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.inputs.push((name, value.into()));
        self
    }

    /// Renders the decision on one line: `[rule-id] outcome`.
    pub fn line(&self) -> String {
        format!("[{}] {}", self.rule.id, self.outcome)
    }
}

impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Inputs<'a>(&'a [(&'static str, String)]);
        impl Serialize for Inputs<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, value) in self.0 {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
        let mut state = serializer.serialize_struct("Decision", 4)?;
        state.serialize_field("rule", self.rule.id)?;
        state.serialize_field("cases", self.rule.cases)?;
        state.serialize_field("inputs", &Inputs(&self.inputs))?;
        state.serialize_field("outcome", &self.outcome)?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: Rule = Rule {
        id: "example-rule",
        part: Part::Identity,
        title: "An example",
        text: "Only for this test.",
        cases: &["deleg-outlook-smtp-only"],
        sources: &[],
    };

    #[test]
    fn a_decision_serializes_its_rule_id_cases_inputs_and_outcome() {
        let decision = Decision::new(&EXAMPLE, "The token is for Outlook.").with("scope", "SMTP.Send");

        let json = serde_json::to_value(&decision).unwrap();

        assert_eq!(
            json,
            serde_json::json!({
                "rule": "example-rule",
                "cases": ["deleg-outlook-smtp-only"],
                "inputs": {"scope": "SMTP.Send"},
                "outcome": "The token is for Outlook.",
            })
        );
        assert_eq!(decision.line(), "[example-rule] The token is for Outlook.");
        assert_eq!(EXAMPLE.reference(), "docs/rules.md#example-rule");
    }
}
