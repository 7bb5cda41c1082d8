//! rex.asynctask's `asynctask-workers`.

use super::spec::TaskSpec;

pub fn tasks() -> Vec<TaskSpec> {
    Vec::new()
}
