//! Quotas (rex.mart's `MartQuota`): pinned complete marts block creation beyond the
//! per-definition and per-owner limits; after a creation, the oldest unpinned
//! complete marts over the limits are purged.

use super::cluster::Cluster;
use super::definition::Definition;
use super::inventory;
use super::purge::purge_with;
use super::settings::MartSettings;
use crate::core::app::App;
use crate::core::Result;
use postgres::Client;

/// Whether `owner` may create another mart of `definition`.
pub fn can_create_mart(
    db: &mut Client,
    owner: &str,
    definition: &Definition,
    settings: &MartSettings,
) -> Result<bool> {
    let all = inventory::complete(db, owner, None)?;
    let pinned_all = all.iter().filter(|m| m.pinned).count() as i64;
    let pinned_def = all
        .iter()
        .filter(|m| m.pinned && m.definition == definition.id)
        .count() as i64;
    Ok(pinned_def < definition.quota_per_owner && pinned_all < settings.max_marts_per_owner)
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
) -> Result<()> {
    let lock = crate::pg::fnv1a(format!("rexmart_reap:{owner}").as_bytes()) as i64;
    db.batch_execute(&format!("SELECT pg_advisory_lock({lock})"))?;
    let result = reap_locked(app, db, cluster, owner, definition, settings);
    let unlocked = db.batch_execute(&format!("SELECT pg_advisory_unlock({lock})"));
    result?;
    unlocked?;
    Ok(())
}

fn reap_locked(
    app: &App,
    db: &mut Client,
    cluster: &mut Cluster,
    owner: &str,
    definition: &Definition,
    settings: &MartSettings,
) -> Result<()> {
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
        }
    }
    Ok(())
}

/// Pins or unpins a mart (pinned marts are never reaped).
pub fn set_pinned(db: &mut Client, code: i64, pinned: bool) -> Result<()> {
    db.execute(
        "UPDATE rexmart_inventory SET pinned = $2 WHERE code = $1",
        &[&code, &pinned],
    )?;
    Ok(())
}
