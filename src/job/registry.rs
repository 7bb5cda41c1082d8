//! Executors by job type: rex's `JobExecutor.mapped()`. The `type` column of a job
//! names the executor that runs it.

use super::Executor;
use crate::core::repr::py_str_repr;
use crate::core::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The executors an application knows, keyed by job type.
#[derive(Clone, Default)]
pub struct Registry {
    executors: BTreeMap<String, Arc<dyn Executor>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds an executor. Two executors for one type is a programming error in rex
    /// (an assertion); here it is an error naming both.
    pub fn register(&mut self, executor: Arc<dyn Executor>) -> Result<()> {
        let name = executor.job_type().to_string();
        if let Some(existing) = self.executors.get(&name) {
            return Err(Error::new(format!(
                "{} and {} have identical signatures: {}",
                existing.logger_name(),
                executor.logger_name(),
                py_str_repr(&name)
            )));
        }
        self.executors.insert(name, executor);
        Ok(())
    }

    /// Adds an executor, replacing the one of the same type if any (an application's
    /// extension overriding an earlier one, as rex's extension lookup does).
    pub fn replace(&mut self, executor: Arc<dyn Executor>) {
        self.executors
            .insert(executor.job_type().to_string(), executor);
    }

    /// Builder form of [`Registry::register`].
    pub fn with(mut self, executor: Arc<dyn Executor>) -> Result<Registry> {
        self.register(executor)?;
        Ok(self)
    }

    /// The executor for a job type, if any.
    pub fn get(&self, job_type: &str) -> Option<&Arc<dyn Executor>> {
        self.executors.get(job_type)
    }

    /// The registered job types, sorted.
    pub fn types(&self) -> Vec<&str> {
        self.executors.keys().map(String::as_str).collect()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("types", &self.types())
            .finish()
    }
}
