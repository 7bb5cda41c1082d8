//! Quotas (rex.mart's `MartQuota`): pinned complete marts block creation beyond the
//! per-definition and per-owner limits; after a creation, the oldest unpinned
//! complete marts over the limits are purged.

use super::cluster::Cluster;
use super::definition::Definition;
use super::inventory::{self, Mart};
use super::purge::purge_with;
use super::settings::MartSettings;
use crate::core::app::App;
use crate::core::Result;
use postgres::Client;

/// The quota rules a creation follows (rex.mart's `MartQuota` extension point):
/// whether a mart may be created, and which marts go once it is. The defaults are
/// [`can_create_mart`] and [`reap_marts`] on the creation's own sessions; an
/// application's rules may ignore those and decide otherwise.
pub trait QuotaRules {
    fn can_create_mart(
        &mut self,
        db: &mut Client,
        owner: &str,
        definition: &Definition,
        settings: &MartSettings,
    ) -> Result<bool> {
        can_create_mart(db, owner, definition, settings)
    }

    fn reap_marts(
        &mut self,
        app: &App,
        db: &mut Client,
        cluster: &mut Cluster,
        owner: &str,
        definition: &Definition,
        settings: &MartSettings,
    ) -> Result<()> {
        reap_marts(app, db, cluster, owner, definition, settings).map(|_| ())
    }
}

/// rex's quota, unchanged.
pub struct DefaultQuota;

impl QuotaRules for DefaultQuota {}

/// Whether `owner` may create another mart of `definition`.
pub fn can_create_mart(
    db: &mut Client,
    owner: &str,
    definition: &Definition,
    settings: &MartSettings,
) -> Result<bool> {
    let [_, total_pinned, _, definition_pinned] = mart_counts(db, owner, Some(&definition.id))?;
    Ok(definition_pinned < definition.quota_per_owner
        && total_pinned < settings.max_marts_per_owner)
}

/// Purges the oldest unpinned complete marts over the definition's quota, then over
/// the owner's total quota. Workers finishing marts of one owner at once would each
/// purge the same oldest mart (and the second fail on its vanished database): a
/// per-owner advisory lock makes them take turns.
pub fn reap_marts(
    app: &App,
    db: &mut Client,
    cluster: &mut Cluster,
    owner: &str,
    definition: &Definition,
    settings: &MartSettings,
) -> Result<Vec<Mart>> {
    let lock = crate::pg::fnv1a(format!("rexmart_reap:{owner}").as_bytes()) as i64;
    db.batch_execute(&format!("SELECT pg_advisory_lock({lock})"))?;
    let result = reap_locked(app, db, cluster, owner, definition, settings);
    let unlocked = db.batch_execute(&format!("SELECT pg_advisory_unlock({lock})"));
    let purged = result?;
    unlocked?;
    Ok(purged)
}

fn reap_locked(
    app: &App,
    db: &mut Client,
    cluster: &mut Cluster,
    owner: &str,
    definition: &Definition,
    settings: &MartSettings,
) -> Result<Vec<Mart>> {
    let mut purged = Vec::new();
    for (of_definition, limit) in [
        (Some(definition.id.as_str()), definition.quota_per_owner),
        (None, settings.max_marts_per_owner),
    ] {
        let marts = inventory::complete(db, owner, of_definition)?;
        let excess = marts.len() as i64 - limit;
        for mart in marts
            .iter()
            .filter(|m| !m.pinned)
            .take(excess.max(0) as usize)
        {
            purge_with(app, db, cluster, mart.code)?;
            purged.push(mart.clone());
        }
    }
    Ok(purged)
}

/// rex's `get_mart_counts`: the owner's complete marts, pinned ones, and both of
/// one definition: `[total, total_pinned, definition, definition_pinned]`.
pub fn mart_counts(db: &mut Client, owner: &str, definition: Option<&str>) -> Result<[i64; 4]> {
    let all = inventory::complete(db, owner, None)?;
    let count = |f: &dyn Fn(&Mart) -> bool| all.iter().filter(|m| f(m)).count() as i64;
    let of_def = |m: &Mart| Some(m.definition.as_str()) == definition;
    Ok([
        all.len() as i64,
        count(&|m| m.pinned),
        count(&of_def),
        count(&|m| m.pinned && of_def(m)),
    ])
}

/// Pins or unpins a mart (pinned marts are never reaped).
pub fn set_pinned(db: &mut Client, code: i64, pinned: bool) -> Result<()> {
    db.execute(
        "UPDATE rexmart_inventory SET pinned = $2 WHERE code = $1",
        &[&code, &pinned],
    )?;
    Ok(())
}
