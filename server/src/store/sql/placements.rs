//! Placements (`placements`): the user's placement as JSON with its version for the etag.

use super::documents::Documents;
use super::{SqlStore, corrupt};
use crate::store::{Expect, PlacementStore, StoreResult, StoredPlacement};
use app::model::names::{FleetName, PlacementName};
use app::model::placement::Placement;
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

const PLACEMENTS: Documents = Documents {
    table: "placements",
    column: "placement",
};

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

    async fn delete_placement(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
        expect: Expect,
    ) -> StoreResult<bool> {
        PLACEMENTS.delete(self, fleet, name.as_str(), expect).await
    }
}
