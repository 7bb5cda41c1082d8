//! `localmem://`: queues in this process's memory (rex's `LocalMemoryAsyncTransport`).

use super::queue_name;
use super::transport::{encode_payload, Taken, Transport};
use crate::core::Result;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

#[derive(Default)]
pub struct LocalMemTransport {
    queues: Mutex<HashMap<String, VecDeque<Value>>>,
}

impl LocalMemTransport {
    pub fn new() -> LocalMemTransport {
        LocalMemTransport::default()
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Value>>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Transport for LocalMemTransport {
    fn submit_task(&self, queue: &str, payload: &Value) -> Result<()> {
        queue_name::check(queue)?;
        let payload = encode_payload(payload)?;
        self.queues()
            .entry(queue.to_string())
            .or_default()
            .push_back(payload);
        Ok(())
    }

    fn get_task(&self, queue: &str) -> Result<Option<Value>> {
        queue_name::check(queue)?;
        Ok(self.queues().get_mut(queue).and_then(VecDeque::pop_front))
    }

    fn poll_queue(&self, queue: &str) -> Result<i64> {
        queue_name::check(queue)?;
        Ok(self.queues().get(queue).map_or(0, |q| q.len() as i64))
    }

    /// In memory a dying process loses everything anyway; the task is removed first
    /// so that other threads do not take it while it runs.
    fn with_task(&self, queue: &str, f: &mut dyn FnMut(&Value) -> Result<()>) -> Result<Taken> {
        Ok(self.get_task(queue)?.map(|payload| f(&payload)))
    }

    fn repr(&self) -> String {
        "LocalMemoryAsyncTransport".to_string()
    }
}
