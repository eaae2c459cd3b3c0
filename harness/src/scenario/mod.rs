//! Scenario files: the format (`types`), loading with `path:line:column` errors and expansion into
//! cases (`load`), and the directory changes they make (`directory`).

pub mod changes;
pub mod directory;
mod file_error;
pub mod load;
pub mod request;
pub mod types;

pub use load::{Case, Scenario, ScenarioError, discover, load, parse};
pub use request::Request;
