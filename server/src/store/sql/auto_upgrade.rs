//! Auto-upgrade profiles (`auto_upgrade_profiles`): the user's profile as JSON with its version
//! for the etag, and the last trigger's status beside it.

use super::documents::Documents;
use super::{SqlStore, corrupt};
use crate::store::{AutoUpgradeStore, Expect, StoreResult, StoredProfile};
use app::model::auto_upgrade::{AutoUpgradeProfile, AutoUpgradeProfileStatus};
use app::model::names::{AutoUpgradeProfileName, FleetName};
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

const PROFILES: Documents = Documents {
    table: "auto_upgrade_profiles",
    column: "profile",
};

/// A query of the columns `profile_from_row` reads (a macro, because sqlx takes only literal
/// SQL).
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT fleet, name, profile, status, version FROM auto_upgrade_profiles ",
            $rest
        )
    };
}

fn profile_from_row(row: &AnyRow) -> StoreResult<StoredProfile> {
    let text = |column: &str| -> StoreResult<String> { Ok(row.try_get::<String, _>(column)?) };
    let bad = |e: String| corrupt("auto-upgrade profile", e);
    Ok(StoredProfile {
        name: AutoUpgradeProfileName::parse(&text("name")?).map_err(bad)?,
        profile: serde_json::from_str(&text("profile")?).map_err(|e| bad(e.to_string()))?,
        status: serde_json::from_str(&text("status")?).map_err(|e| bad(e.to_string()))?,
        etag: row.try_get("version")?,
    })
}

/// The auto-upgrade profile a run's stored body names, if any (serde skips the rest unread).
fn origin(body: &str) -> StoreResult<Option<String>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Origin {
        auto_upgrade_profile_id: Option<String>,
    }
    let origin: Origin = serde_json::from_str(body).map_err(|e| corrupt("run", e))?;
    Ok(origin.auto_upgrade_profile_id)
}

#[async_trait::async_trait]
impl AutoUpgradeStore for SqlStore {
    async fn put_profile(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        profile: &AutoUpgradeProfile,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredProfile, bool)> {
        let text =
            serde_json::to_string(profile).map_err(|e| corrupt("auto-upgrade profile", e))?;
        let (etag, created) = PROFILES
            .put(self, fleet, name.as_str(), &text, now, expect)
            .await?;
        let stored = self.get_profile(fleet, name).await?;
        // Read back for the status a replaced profile keeps; gone again already is a race
        // with a delete, which the caller's answer may as well reflect as written.
        Ok((
            stored.unwrap_or_else(|| StoredProfile {
                name: name.clone(),
                profile: profile.clone(),
                status: AutoUpgradeProfileStatus::default(),
                etag,
            }),
            created,
        ))
    }

    async fn get_profile(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
    ) -> StoreResult<Option<StoredProfile>> {
        let row = sqlx::query(select!("WHERE fleet = $1 AND name = $2"))
            .bind(fleet.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    async fn list_profiles(&self, fleet: &FleetName) -> StoreResult<Vec<StoredProfile>> {
        let rows = sqlx::query(select!("WHERE fleet = $1 ORDER BY name"))
            .bind(fleet.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(profile_from_row).collect()
    }

    async fn enabled_profiles(&self) -> StoreResult<Vec<(FleetName, StoredProfile)>> {
        let rows = sqlx::query(select!("ORDER BY fleet, name"))
            .fetch_all(&self.pool)
            .await?;
        let mut enabled = Vec::new();
        for row in &rows {
            let stored = profile_from_row(row)?;
            if stored.profile.disabled {
                continue;
            }
            let fleet = FleetName::parse(&row.try_get::<String, _>("fleet")?)
                .map_err(|e| corrupt("auto-upgrade profile", e))?;
            enabled.push((fleet, stored));
        }
        Ok(enabled)
    }

    async fn delete_profile(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        expect: Expect,
    ) -> StoreResult<bool> {
        PROFILES.delete(self, fleet, name.as_str(), expect).await
    }

    async fn generated_by(
        &self,
        fleet: &FleetName,
        run: &str,
    ) -> StoreResult<Option<Option<String>>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM runs WHERE fleet = $1 AND name = $2")
                .bind(fleet.as_str())
                .bind(run)
                .fetch_optional(&self.pool)
                .await?;
        body.map(|body| origin(&body)).transpose()
    }

    async fn unfinished_generated_runs(
        &self,
        fleet: &FleetName,
        profile_id: &str,
    ) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT name, body FROM runs WHERE fleet = $1 AND state IN ('NotStarted', 'Running', 'Stopping', 'Stopped') ORDER BY name",
        )
        .bind(fleet.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut names = Vec::new();
        for row in &rows {
            let body: String = row.try_get("body")?;
            if origin(&body)?.as_deref() == Some(profile_id) {
                names.push(row.try_get("name")?);
            }
        }
        Ok(names)
    }

    async fn record_trigger(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        status: &AutoUpgradeProfileStatus,
    ) -> StoreResult<bool> {
        let text = serde_json::to_string(status).map_err(|e| corrupt("trigger status", e))?;
        let done = sqlx::query(
            "UPDATE auto_upgrade_profiles SET status = $1 WHERE fleet = $2 AND name = $3",
        )
        .bind(text)
        .bind(fleet.as_str())
        .bind(name.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
