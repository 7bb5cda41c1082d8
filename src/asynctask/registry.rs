//! Workers by name: rex's `AsyncTaskWorker.mapped()`.

use super::Worker;
use crate::core::repr::py_str_repr;
use crate::core::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct WorkerRegistry {
    workers: BTreeMap<String, Arc<dyn Worker>>,
    /// Names in registration order (rex lists extensions that way).
    order: Vec<String>,
}

impl WorkerRegistry {
    pub fn new() -> WorkerRegistry {
        WorkerRegistry::default()
    }

    /// Adds a worker; a second worker with the same name is refused.
    pub fn register(&mut self, worker: Arc<dyn Worker>) -> Result<()> {
        let name = worker.name().to_string();
        if let Some(existing) = self.workers.get(&name) {
            return Err(Error::new(format!(
                "{} and {} have identical signatures: {}",
                existing.logger_name(),
                worker.logger_name(),
                py_str_repr(&name)
            )));
        }
        self.order.push(name.clone());
        self.workers.insert(name, worker);
        Ok(())
    }

    /// Adds a worker, replacing the one of the same name if any (an application's
    /// extension overriding an earlier one) in its place in the order.
    pub fn replace(&mut self, worker: Arc<dyn Worker>) {
        let name = worker.name().to_string();
        if !self.order.contains(&name) {
            self.order.push(name.clone());
        }
        self.workers.insert(name, worker);
    }

    /// The registered names in registration order.
    pub fn names_in_order(&self) -> Vec<&str> {
        self.order.iter().map(String::as_str).collect()
    }

    /// The registered workers in registration order.
    pub fn in_order(&self) -> impl Iterator<Item = &Arc<dyn Worker>> {
        self.order.iter().filter_map(|n| self.workers.get(n))
    }

    pub fn with(mut self, worker: Arc<dyn Worker>) -> Result<WorkerRegistry> {
        self.register(worker)?;
        Ok(self)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Worker>> {
        self.workers.get(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.workers.keys().map(String::as_str).collect()
    }
}

impl std::fmt::Debug for WorkerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerRegistry")
            .field("names", &self.names())
            .finish()
    }
}
