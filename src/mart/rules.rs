//! An application's mart rules outside a transcript: rex.mart's extension points
//! (`MartAccessPermissions`, `MartQuota`, and the processors and definers its
//! definitions name) as the domain sees them while it works for the application.
//!
//! A [`RulesSource`] runs a piece of domain work "inside" an application: with its
//! access and quota rules, and with its own processors and definers known to
//! [`super::processors`] and [`super::definers`] on the calling thread (so its
//! definitions load and its processors run). rex's defaults ([`DefaultRules`]) need
//! nothing; an application written in Python gets its rules from the bindings
//! (`bindings::app_rules::ScriptRules`), which the domain never names.

use super::permissions::{AccessPermissions, DefaultPermissions};
use super::quota::{DefaultQuota, QuotaRules};
use crate::core::app::App;
use crate::core::{Error, Result};

/// The rules of one piece of work.
pub struct MartRules<'a> {
    pub access: &'a mut dyn AccessPermissions,
    pub quota: &'a mut dyn QuotaRules,
}

/// Who supplies an application's rules. Shared by worker threads, hence `Send +
/// Sync`: an implementation finds the rules on the calling thread.
pub trait RulesSource: Send + Sync {
    /// Runs `f` with the rules of `app`. Loading the rules may fail (the
    /// application's code does not load, a rule lookup raises): `f` is not called.
    fn with_rules(&self, app: &App, f: &mut dyn FnMut(&mut MartRules) -> Result<()>) -> Result<()>;
}

/// rex.mart's own rules: every definition for everyone, owners see and manage
/// their marts, quotas count pinned marts; only the built-in processors.
pub struct DefaultRules;

impl RulesSource for DefaultRules {
    fn with_rules(
        &self,
        _app: &App,
        f: &mut dyn FnMut(&mut MartRules) -> Result<()>,
    ) -> Result<()> {
        f(&mut MartRules {
            access: &mut DefaultPermissions,
            quota: &mut DefaultQuota,
        })
    }
}

/// [`RulesSource::with_rules`] for a closure with a result of its own.
pub fn with_rules<T>(
    source: &dyn RulesSource,
    app: &App,
    f: impl FnOnce(&mut MartRules) -> Result<T>,
) -> Result<T> {
    let mut f = Some(f);
    let mut out = None;
    source.with_rules(app, &mut |rules| {
        if let Some(f) = f.take() {
            out = Some(f(rules)?);
        }
        Ok(())
    })?;
    out.ok_or_else(|| Error::new("The application's mart rules were never applied"))
}
