//! Placements (`placements`): the user's placement as JSON with its version for the etag.

use super::documents::Documents;
use super::{SqlStore, corrupt};
use crate::store::{
    Expect, PlacementStore, StoreError, StoreResult, StoredOverride, StoredPlacement,
};
use app::engine::AppliedRecord;
use app::model::names::OverrideName;
use app::model::names::{FleetName, PlacementName};
use app::model::overrides::ResourceOverride;
use app::model::placement::Placement;
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

const PLACEMENTS: Documents = Documents {
    table: "placements",
    column: "placement",
};

const OVERRIDES: Documents = Documents {
    table: "resource_overrides",
    column: "spec",
};

fn override_from_row(row: &AnyRow) -> StoreResult<StoredOverride> {
    let name = OverrideName::parse(&row.try_get::<String, _>("name")?)
        .map_err(|e| corrupt("resource override", e))?;
    let spec = serde_json::from_str(&row.try_get::<String, _>("spec")?)
        .map_err(|e| corrupt("resource override", e))?;
    Ok(StoredOverride {
        name,
        spec,
        etag: row.try_get("version")?,
    })
}

fn placement_from_row(row: &AnyRow) -> StoreResult<StoredPlacement> {
    let name = PlacementName::parse(&row.try_get::<String, _>("name")?)
        .map_err(|e| corrupt("placement", e))?;
    let placement: Placement = serde_json::from_str(&row.try_get::<String, _>("placement")?)
        .map_err(|e| corrupt("placement", e))?;
    Ok(StoredPlacement {
        name,
        placement,
        etag: row.try_get("version")?,
    })
}

#[async_trait::async_trait]
impl PlacementStore for SqlStore {
    async fn put_placement(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
        placement: &Placement,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredPlacement, bool)> {
        let text = serde_json::to_string(placement).map_err(|e| corrupt("placement", e))?;
        let (etag, created) = PLACEMENTS
            .put(self, fleet, name.as_str(), &text, now, expect)
            .await?;
        let stored = StoredPlacement {
            name: name.clone(),
            placement: placement.clone(),
            etag,
        };
        Ok((stored, created))
    }

    async fn get_placement(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
    ) -> StoreResult<Option<StoredPlacement>> {
        let row = sqlx::query(
            "SELECT name, placement, version FROM placements WHERE fleet = $1 AND name = $2",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(placement_from_row).transpose()
    }

    async fn list_placements(&self, fleet: &FleetName) -> StoreResult<Vec<StoredPlacement>> {
        let rows = sqlx::query(
            "SELECT name, placement, version FROM placements WHERE fleet = $1 ORDER BY name",
        )
        .bind(fleet.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(placement_from_row).collect()
    }

    async fn placement_members(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
    ) -> StoreResult<BTreeMap<String, AppliedRecord>> {
        let rows = sqlx::query(
            "SELECT member, record FROM placement_members WHERE fleet = $1 AND placement = $2",
        )
        .bind(fleet.as_str())
        .bind(placement.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let record: String = row.try_get("record")?;
                let record =
                    serde_json::from_str(&record).map_err(|e| corrupt("placement member", e))?;
                Ok((row.try_get("member")?, record))
            })
            .collect()
    }

    async fn record_placement_member(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
        member: &str,
        record: &AppliedRecord,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(record).map_err(|e| corrupt("placement member", e))?;
        sqlx::query(
            "INSERT INTO placement_members (fleet, placement, member, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (fleet, placement, member) DO UPDATE SET record = excluded.record",
        )
        .bind(fleet.as_str())
        .bind(placement.as_str())
        .bind(member)
        .bind(text)
        .execute(&self.pool)
        .await
        .map_err(|e| match super::broke(&e) {
            super::Broke::ForeignKey => StoreError::NotFound,
            _ => StoreError::Database(e),
        })?;
        Ok(())
    }

    async fn put_override(
        &self,
        fleet: &FleetName,
        name: &OverrideName,
        spec: &ResourceOverride,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredOverride, bool)> {
        let text = serde_json::to_string(spec).map_err(|e| corrupt("resource override", e))?;
        let (etag, created) = OVERRIDES
            .put(self, fleet, name.as_str(), &text, now, expect)
            .await?;
        let stored = StoredOverride {
            name: name.clone(),
            spec: spec.clone(),
            etag,
        };
        Ok((stored, created))
    }

    async fn list_overrides(&self, fleet: &FleetName) -> StoreResult<Vec<StoredOverride>> {
        let rows = sqlx::query(
            "SELECT name, spec, version FROM resource_overrides WHERE fleet = $1 ORDER BY name",
        )
        .bind(fleet.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(override_from_row).collect()
    }

    async fn delete_override(
        &self,
        fleet: &FleetName,
        name: &OverrideName,
        expect: Expect,
    ) -> StoreResult<bool> {
        OVERRIDES.delete(self, fleet, name.as_str(), expect).await
    }

    async fn placements_holding(
        &self,
        fleet: &FleetName,
        member: &str,
    ) -> StoreResult<Vec<PlacementName>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT placement FROM placement_members WHERE fleet = $1 AND member = $2 ORDER BY placement",
        )
        .bind(fleet.as_str())
        .bind(member)
        .fetch_all(&self.pool)
        .await?;
        names
            .iter()
            .map(|n| PlacementName::parse(n).map_err(|e| corrupt("placement member", e)))
            .collect()
    }

    async fn forget_placement_member(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
        member: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM placement_members WHERE fleet = $1 AND placement = $2 AND member = $3",
        )
        .bind(fleet.as_str())
        .bind(placement.as_str())
        .bind(member)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_placement(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
        expect: Expect,
    ) -> StoreResult<bool> {
        PLACEMENTS.delete(self, fleet, name.as_str(), expect).await
    }
}
