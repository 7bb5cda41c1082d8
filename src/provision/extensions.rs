//! The Rust extensions each rex package contributes: its job executors and async
//! task workers, visible only to applications that have the package active (rex
//! finds extensions in the modules of the active packages). Registered in package
//! order, requirements first, as rex defines them; an application's own (Python)
//! extensions come after, in `bindings::app_code`.
//!
//! | package | executors | workers |
//! |---|---|---|
//! | rex.asynctask | | `ctl_executor` |
//! | rex.job | `harness_noop`, `harness_probe`, `harness_probe_limited` (the harness's, for tests) | `job_executor`, `job_queuer`, `job_cleanup` |
//! | rex.mart | `rexmart_create` | `rexmart_create` |

use crate::asynctask::ctl_executor::CtlExecutorWorker;
use crate::asynctask::{Worker, WorkerRegistry};
use crate::core::packages::Packages;
use crate::core::Result;
use crate::job::workers::{JobCleanupWorker, JobExecutorWorker, JobQueuerWorker};
use crate::job::{Executor, Registry};
use crate::mart::rules::RulesSource;
use crate::mart::tasks::{MartCreateExecutor, MartCreateWorker};
use std::sync::Arc;

/// The job executors of the active packages; rex.mart's create under `rules` (the
/// application's own, given by the caller that can run them).
pub fn executors(packages: &Packages, rules: &Arc<dyn RulesSource>) -> Result<Registry> {
    let mut registry = Registry::new();
    for name in packages.names() {
        let own: Vec<Arc<dyn Executor>> = match name.as_str() {
            "rex.job" => {
                let own = Registry::builtin();
                own.types()
                    .iter()
                    .filter_map(|t| own.get(t).cloned())
                    .collect()
            }
            "rex.mart" => vec![Arc::new(MartCreateExecutor::new(rules.clone()))],
            _ => Vec::new(),
        };
        for executor in own {
            registry.register(executor)?;
        }
    }
    Ok(registry)
}

/// The async task workers of the active packages; rex.job's `job_executor` runs the
/// jobs of `executors` (the application's included).
pub fn workers(
    packages: &Packages,
    executors: &Registry,
    rules: &Arc<dyn RulesSource>,
) -> Result<WorkerRegistry> {
    let mut registry = WorkerRegistry::new();
    for name in packages.names() {
        let own: Vec<Arc<dyn Worker>> = match name.as_str() {
            "rex.asynctask" => vec![Arc::new(CtlExecutorWorker)],
            "rex.job" => vec![
                Arc::new(JobExecutorWorker {
                    registry: executors.clone(),
                }),
                Arc::new(JobQueuerWorker),
                Arc::new(JobCleanupWorker),
            ],
            "rex.mart" => vec![Arc::new(MartCreateWorker::new(rules.clone()))],
            _ => Vec::new(),
        };
        for worker in own {
            registry.register(worker)?;
        }
    }
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::app::SearchPath;

    fn packages(names: &[&str]) -> Packages {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        Packages::resolve(&names, &SearchPath::default()).unwrap()
    }

    #[test]
    fn extensions_belong_to_their_package() {
        let rules: Arc<dyn RulesSource> = Arc::new(crate::mart::rules::DefaultRules);
        let executors = |p: &Packages| super::executors(p, &rules);
        let workers = |p: &Packages, e: &Registry| super::workers(p, e, &rules);
        let asynctask = packages(&["rex.asynctask"]);
        assert!(executors(&asynctask).unwrap().types().is_empty());
        let none = Registry::new();
        assert_eq!(
            workers(&asynctask, &none).unwrap().names_in_order(),
            ["ctl_executor"]
        );
        let mart = packages(&["rex.mart"]);
        let jobs = executors(&mart).unwrap();
        assert!(jobs.get("rexmart_create").is_some() && jobs.get("harness_noop").is_some());
        assert_eq!(
            workers(&mart, &jobs).unwrap().names_in_order(),
            [
                "ctl_executor",
                "job_executor",
                "job_queuer",
                "job_cleanup",
                "rexmart_create"
            ]
        );
    }
}
